"""Calibrate the impact model: time each kind of work on real PostgreSQL tables of a few sizes.

    python bench/calibrate.py [--sizes 100000,1000000] [--database-url URL] [--output PATH]

Builds a Django-like table (bigint id, varchar status, integer amount, timestamptz, short text) of
each size on a scratch database, runs statements of each kind of work the model knows
(``bot.estimate``) and times them, then writes the throughputs (rows/s and bytes/s per kind)
with the date and the machine to ``bot/data/throughput.json`` and prints them.

The order of the steps keeps each measurement clean: the table rewrite runs while the table has no
index (heap only: the model adds the index rebuilds from the index-build figures), the indexes are
built next, and the row-by-row UPDATE runs last, on a table with its three indexes, as a Django
backfill would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bot.collector.mr_collector.cluster import EmbeddedCluster, ScratchDatabase
from bot.collector.mr_collector.db import server_address

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bot" / "data" / "throughput.json"
DURABLE = {"fsync": "on", "full_page_writes": "on", "synchronous_commit": "on"}
SIZES = (100_000, 1_000_000)

CALIBRATION_TABLE = """
CREATE TABLE bench (
    id bigint NOT NULL,
    status varchar(20),
    amount integer,
    created_at timestamptz NOT NULL,
    note text
)
"""
CALIBRATION_ROWS = """
INSERT INTO bench
SELECT g,
       (ARRAY['new', 'paid', 'shipped', 'cancelled'])[1 + g %% 4],
       (random() * 10000)::integer,
       now() - random() * interval '3 years',
       md5(g::text)
FROM generate_series(1, %(rows)s) AS g
"""

# (kind, operation, setup run untimed first, the timed statement)
STEPS = (
    ("catalog", "add nullable column", None, "ALTER TABLE bench ADD COLUMN backfill bigint"),
    (
        "catalog",
        "add column with default",
        None,
        "ALTER TABLE bench ADD COLUMN flag boolean NOT NULL DEFAULT false",
    ),
    ("catalog", "rename column", None, "ALTER TABLE bench RENAME COLUMN note TO memo"),
    (
        "scan",
        "validate check constraint",
        "ALTER TABLE bench ADD CONSTRAINT bench_amount_check CHECK (amount >= 0) NOT VALID",
        "ALTER TABLE bench VALIDATE CONSTRAINT bench_amount_check",
    ),
    ("scan", "set not null", None, "ALTER TABLE bench ALTER COLUMN status SET NOT NULL"),
    ("rewrite", "alter column type", None, "ALTER TABLE bench ALTER COLUMN amount TYPE bigint"),
    ("index", "add primary key", None, "ALTER TABLE bench ADD PRIMARY KEY (id)"),
    ("index", "create index", None, "CREATE INDEX bench_status ON bench (status)"),
    (
        "index-concurrent",
        "create index concurrently",
        None,
        "CREATE INDEX CONCURRENTLY bench_created ON bench (created_at)",
    ),
    ("dml", "update every row", None, "UPDATE bench SET backfill = amount"),
)

SIZES_SQL = """
SELECT pg_relation_size(c.oid),
       pg_indexes_size(c.oid),
       coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)
FROM pg_class c WHERE c.oid = %s::regclass
"""


@contextlib.contextmanager
def database(server_url: str | None) -> Iterator[tuple[str, str]]:
    """Where to measure, and how to describe it: a scratch database on ``server_url``, or else
    a throwaway cluster of our own, with no other load on it.

    The embedded cluster trades durability for speed; production doesn't, and writing every page
    twice (full_page_writes) and syncing it is part of what a rewrite costs: turn them back on.
    """
    if server_url:
        with ScratchDatabase(server_url) as scratch:
            yield scratch.url, f"scratch database on {server_address(server_url)}"
        return
    with EmbeddedCluster() as cluster:
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            for name, value in DURABLE.items():
                conn.execute(f"ALTER SYSTEM SET {name} = {value}")
            conn.execute("SELECT pg_reload_conf()")
        for _ in range(50):
            with psycopg.connect(cluster.url) as conn:
                if conn.execute("SHOW fsync").fetchone() == ("on",):
                    break
            time.sleep(0.1)
        yield cluster.url, f"embedded cluster ({', '.join(f'{k}={v}' for k, v in DURABLE.items())})"


def sizes(conn: psycopg.Connection, table: str) -> tuple[int, int, int]:
    """table, index and TOAST bytes, as the stats query reports them."""
    row = conn.execute(SIZES_SQL, (table,)).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def timed(conn: psycopg.Connection, sql: str) -> float:
    """Seconds ``sql`` takes in its own transaction, commit included, after a checkpoint.

    The checkpoint keeps one step's dirty pages from being written during the next one.
    """
    conn.execute("CHECKPOINT")
    start = time.perf_counter()
    conn.execute(sql)
    return time.perf_counter() - start


def work_bytes(kind: str, table: int, indexes: int, toast: int) -> int:
    """The bytes a kind of work reads or writes, as the model (bot.estimate) counts them."""
    if kind == "rewrite":
        return table + toast
    if kind == "dml":
        return table + indexes
    return table


def calibrate_size(conn: psycopg.Connection, rows: int) -> list[dict]:
    conn.execute("DROP TABLE IF EXISTS bench")
    conn.execute("SELECT setseed(0.42)")
    conn.execute(CALIBRATION_TABLE)
    conn.execute(CALIBRATION_ROWS, {"rows": rows})
    conn.execute("VACUUM ANALYZE bench")
    runs = []
    for kind, operation, setup, sql in STEPS:
        if setup:
            conn.execute(setup)
        table, indexes, toast = sizes(conn, "bench")
        seconds = timed(conn, sql)
        run = {
            "kind": kind,
            "operation": operation,
            "rows": rows,
            "bytes": work_bytes(kind, table, indexes, toast),
            "seconds": round(seconds, 4),
        }
        if kind.startswith("index"):
            run["index_bytes"] = sizes(conn, "bench")[1] - indexes
        runs.append(run)
        print(f"  {rows:>9,} rows  {kind:<16} {operation:<26} {seconds:8.3f} s", flush=True)
    conn.execute("DROP TABLE bench")
    return runs


def throughputs(runs: list[dict]) -> dict[str, dict[str, float]]:
    """Per kind: total work over total time, so the largest tables weigh the most."""
    kinds: dict[str, dict[str, float]] = {}
    for kind in dict.fromkeys(run["kind"] for run in runs):
        mine = [run for run in runs if run["kind"] == kind]
        seconds = sum(run["seconds"] for run in mine)
        if kind == "catalog":
            # Instant work has no throughput: the model takes the slowest run as its upper bound.
            kinds[kind] = {"seconds": max(r["seconds"] for r in mine)}
            continue
        figures = {
            "rows_per_s": round(sum(r["rows"] for r in mine) / seconds),
            "bytes_per_s": round(sum(r["bytes"] for r in mine) / seconds),
        }
        if "index_bytes" in mine[0]:
            figures["index_bytes_per_s"] = round(sum(r["index_bytes"] for r in mine) / seconds)
        kinds[kind] = figures
    return kinds


def machine(conn: psycopg.Connection) -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    settings = (
        *DURABLE,
        "shared_buffers",
        "maintenance_work_mem",
        "max_parallel_maintenance_workers",
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "postgresql": conn.execute("SHOW server_version").fetchone()[0],  # type: ignore[index]
        "settings": {s: conn.execute(f"SHOW {s}").fetchone()[0] for s in settings},  # type: ignore[index]
    }


def print_figures(data: dict) -> None:
    m = data["machine"]
    print(f"\ncalibrated {data['calibrated_at']} on {m['cpu']} ({m['cores']} cores), ", end="")
    print(f"PostgreSQL {m['postgresql']}, {data['database']}")
    print(f"{'kind':<18}{'rows/s':>14}{'MB/s':>10}{'index MB/s':>12}")
    for kind, f in data["kinds"].items():
        if "seconds" in f:
            print(
                f"{kind:<18}{'instant: at most ' + format(f['seconds'] * 1000, '.1f') + ' ms':>32}"
            )
            continue
        index = f"{f['index_bytes_per_s'] / 1e6:.1f}" if "index_bytes_per_s" in f else ""
        print(f"{kind:<18}{f['rows_per_s']:>14,}{f['bytes_per_s'] / 1e6:>10.1f}{index:>12}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="rows per table")
    parser.add_argument(
        "--database-url",
        help="a server to calibrate on (a scratch database is created there); "
        "default: a throwaway embedded cluster",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    row_counts = [int(n) for n in args.sizes.split(",")]

    with database(args.database_url) as (url, where), psycopg.connect(url, autocommit=True) as conn:
        runs = [run for rows in row_counts for run in calibrate_size(conn, rows)]
        data = {
            "calibrated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(conn),
            "database": where,
            "kinds": throughputs(runs),
            "runs": runs,
        }
    args.output.write_text(json.dumps(data, indent=2) + "\n")
    print_figures(data)
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
