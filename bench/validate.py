"""Check the impact model against a table it was not calibrated on.

    python bench/validate.py [--rows 400000] [--database-url URL]

Builds a wider table than bench/calibrate.py does (nine columns, a 200-byte text payload, three
indexes to begin with) on a scratch database, then for each kind of work: reads the table
statistics with the documented catalog query (``bot.stats.load_stats`` on the scratch database),
asks the model (``bot.estimate.estimate_migration``) for its range, runs the statement for real
and prints measured against estimated. The rewrite comes late, when the table has six indexes to
rebuild, so it checks how the model adds the index rebuilds to the heap copy.
"""

from __future__ import annotations

import argparse
import math
import sys

import psycopg
from calibrate import database, timed

from bot.estimate import estimate_migration
from bot.models import Blocks, ChangeKind, Lock, MigrationReview, StatementReview, Verdict
from bot.stats import load_stats

VALIDATION_TABLE = """
CREATE TABLE wide (
    id bigint NOT NULL,
    customer_id bigint NOT NULL,
    status varchar(20),
    amount integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz,
    email varchar(254) NOT NULL,
    payload text,
    flags boolean
)
"""
VALIDATION_ROWS = """
INSERT INTO wide
SELECT g,
       (random() * 50000)::bigint,
       (ARRAY['new', 'paid', 'shipped', 'cancelled', 'refunded'])[1 + g %% 5],
       (random() * 10000)::integer,
       now() - random() * interval '3 years',
       now() - random() * interval '1 year',
       'customer' || g || '@example.com',
       repeat(md5(g::text), 6),
       g %% 3 = 0
FROM generate_series(1, %(rows)s) AS g
"""
INDEXES = (
    "ALTER TABLE wide ADD PRIMARY KEY (id)",
    "CREATE INDEX wide_customer ON wide (customer_id)",
    "CREATE INDEX wide_email ON wide (email)",
)

# (operation, setup run untimed first, statement, strongest lock, what it blocks, rewrite, scan)
CASES: tuple[tuple[str, str | None, str, str, Blocks, bool, bool], ...] = (
    (
        "add nullable column",
        None,
        "ALTER TABLE wide ADD COLUMN note text NULL",
        "AccessExclusiveLock",
        "reads",
        False,
        False,
    ),
    (
        "validate check constraint",
        "ALTER TABLE wide ADD CONSTRAINT wide_amount_check CHECK (amount >= 0) NOT VALID",
        "ALTER TABLE wide VALIDATE CONSTRAINT wide_amount_check",
        "ShareUpdateExclusiveLock",
        "none",
        False,
        True,
    ),
    (
        "set not null",
        None,
        "ALTER TABLE wide ALTER COLUMN status SET NOT NULL",
        "AccessExclusiveLock",
        "reads",
        False,
        True,
    ),
    (
        "create index",
        None,
        "CREATE INDEX wide_status ON wide (status)",
        "ShareLock",
        "writes",
        False,
        False,
    ),
    (
        "add unique constraint",
        None,
        "ALTER TABLE wide ADD CONSTRAINT wide_email_uniq UNIQUE (email)",
        "AccessExclusiveLock",
        "reads",
        False,
        False,
    ),
    (
        "create index concurrently",
        None,
        "CREATE INDEX CONCURRENTLY wide_updated ON wide (updated_at)",
        "ShareUpdateExclusiveLock",
        "none",
        False,
        False,
    ),
    (
        "alter column type (6 indexes)",
        None,
        "ALTER TABLE wide ALTER COLUMN amount TYPE bigint",
        "AccessExclusiveLock",
        "reads",
        True,
        False,
    ),
    (
        "update every row",
        None,
        "UPDATE wide SET note = status",
        "RowExclusiveLock",
        "none",
        False,
        False,
    ),
)


def review_of(sql: str, mode: str, blocks: Blocks, rewrite: bool, scan: bool) -> MigrationReview:
    """A one-statement migration with the verdict the classifier gives that statement."""
    verdict = Verdict(
        source="static",
        locks=[Lock(relation="wide", mode=mode, blocks=blocks)],
        blocks=blocks,
        rewrite=rewrite,
        scan=scan,
    )
    statement = StatementReview(index=0, sql=sql, static=verdict, final=verdict)
    return MigrationReview(
        app_label="bench",
        name="validate",
        file="bench/validate.py",
        change=ChangeKind.added,
        atomic=False,
        statements=[statement],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument(
        "--database-url",
        help="a server to run on (a scratch database is created there); "
        "default: a throwaway embedded cluster",
    )
    args = parser.parse_args(argv)

    results = []
    with database(args.database_url) as (url, where), psycopg.connect(url, autocommit=True) as conn:
        print(f"on {where}")
        conn.execute("SELECT setseed(0.17)")
        conn.execute(VALIDATION_TABLE)
        conn.execute(VALIDATION_ROWS, {"rows": args.rows})
        for sql in INDEXES:
            conn.execute(sql)
        conn.execute("VACUUM ANALYZE wide")
        for operation, setup, sql, mode, blocks, rewrite, scan in CASES:
            if setup:
                conn.execute(setup)
            conn.execute("ANALYZE wide")
            review = review_of(sql, mode, blocks, rewrite, scan)
            estimate_migration(review, load_stats(url))
            impact = review.statements[0].impact
            assert impact is not None and impact.seconds_low is not None
            measured = timed(conn, sql)
            results.append((operation, impact, measured))
            print(f"  {operation:<30} {measured:8.3f} s   {impact.summary}", flush=True)

    print(f"\n{args.rows:,}-row wide table: measured vs estimated")
    header = f"{'kind':<17}{'operation':<31}{'measured':>10}{'estimate':>22}  inside  "
    print(header + "measured/midpoint")
    misses = 0
    for operation, impact, measured in results:
        low, high = impact.seconds_low or 0.0, impact.seconds_high or 0.0
        inside = low <= measured <= high
        misses += not inside
        midpoint = math.sqrt(low * high) if low > 0 else high / 2
        estimate = f"{_seconds(low)} - {_seconds(high)}"
        print(
            f"{impact.kind:<17}{operation:<31}{_seconds(measured):>10}{estimate:>22}  "
            f"{'yes' if inside else 'NO':<6}  {measured / midpoint:.2f}"
        )
    print(f"\n{len(results) - misses} of {len(results)} measurements inside the estimated range")
    return 0


def _seconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    sys.exit(main())
