"""Time the collect stage on MySQL/MariaDB and SQLite, with the kiosk test project.

    python bench/collect_dialects.py [--runs 3] [--mysql-url mysql://root@127.0.0.1:3306/]

Collects every kiosk migration after the seed rows (``tests/kiosk.py``: 30 on SQLite, 32 on
MySQL, each one ALTER form) the way ``analyze`` does: one collector process, from interpreter
start to the last byte of JSON. Prints the median of ``--runs`` runs on SQLite, and on the MySQL
server when given: with the probe, without it (``--no-trace``), and the probe's cost per ALTER.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymysql  # noqa: E402

from bot.collect import collect  # noqa: E402
from bot.models import CollectorOutput  # noqa: E402
from tests.kiosk import (  # noqa: E402
    KIOSK,
    MYSQL_SETTINGS,
    SQLITE_SETTINGS,
    migration_file,
    new_migrations,
)


def run(*, mysql_url: str | None, trace: bool = True) -> CollectorOutput:
    files = [migration_file(app, name) for app, name in new_migrations(mysql=bool(mysql_url))]
    settings = MYSQL_SETTINGS if mysql_url else SQLITE_SETTINGS
    return collect(
        KIOSK, files, python=None, settings=settings, database_url=mysql_url, trace=trace
    )


def median_seconds(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mysql-url")
    args = parser.parse_args()
    count = len(new_migrations(mysql=False))
    rows = [(f"SQLite, {count} migrations", lambda: run(mysql_url=None))]
    if args.mysql_url:
        pymysql.install_as_MySQLdb()
        count = len(new_migrations(mysql=True))
        rows += [
            (f"MySQL, {count} migrations, probed", lambda: run(mysql_url=args.mysql_url)),
            (
                f"MySQL, {count} migrations, --no-trace",
                lambda: run(mysql_url=args.mysql_url, trace=False),
            ),
        ]
    for label, work in rows:
        print(f"{label:45} {median_seconds(args.runs, work):6.2f} s")
    if args.mysql_url:
        output = run(mysql_url=args.mysql_url)
        traces = [s.trace for m in output.migrations for s in m.statements if s.trace]
        probed = [t for t in traces if t.method == "probe"]
        attempts = sum(t.queries for t in probed)
        total_ms = sum(t.duration_ms or 0 for t in probed)
        print(
            f"probe: {len(probed)} statements, {attempts} attempts "
            f"({attempts / len(probed):.1f} each), {total_ms / len(probed):.1f} ms per statement"
        )


if __name__ == "__main__":
    main()
