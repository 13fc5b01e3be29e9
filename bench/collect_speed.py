"""Time the collect stage on the collector's test project (tests/projects/shop).

    python bench/collect_speed.py [--runs 3] [--database-url URL]

Collects the six newest migrations the collector's tests collect (``tests/test_collect.py``: two
ancestors applied first; AlterFields that introspect, CONCURRENTLY, RunPython, a rewrite; so it
needs the test extra) the way ``analyze`` does: one collector process, from
interpreter start to the last byte of JSON. Prints the median of ``--runs`` runs for: the
embedded cluster's start and stop alone, the whole run on the embedded cluster with and without
tracing, and the whole run on ``--database-url`` when given (a scratch database there).
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

from bot.collect import collect  # noqa: E402
from bot.collector.mr_collector.cluster import EmbeddedCluster  # noqa: E402
from bot.models import MigrationFile  # noqa: E402
from tests.test_collect import NEW, SHOP, shop_file  # noqa: E402


def files() -> list[MigrationFile]:
    return [shop_file(name) for name in NEW]


def median_seconds(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cluster_only() -> None:
    with EmbeddedCluster():
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    rows = [
        ("embedded cluster start + stop", lambda: cluster_only()),
        (
            f"collect {len(NEW)} migrations, embedded cluster, traced",
            lambda: collect(SHOP, files(), python=None, settings=None, database_url=None),
        ),
        (
            f"collect {len(NEW)} migrations, embedded cluster, not traced",
            lambda: collect(
                SHOP, files(), python=None, settings=None, database_url=None, trace=False
            ),
        ),
    ]
    if args.database_url:
        rows.append(
            (
                f"collect {len(NEW)} migrations, --database-url, traced",
                lambda: collect(
                    SHOP, files(), python=None, settings=None, database_url=args.database_url
                ),
            )
        )
    print(f"median of {args.runs} runs")
    for label, work in rows:
        print(f"{label:<52} {median_seconds(args.runs, work):6.2f} s", flush=True)


if __name__ == "__main__":
    main()
