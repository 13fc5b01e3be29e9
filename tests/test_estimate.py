"""The impact model: ranges that follow from table statistics and the calibrated throughputs."""

from __future__ import annotations

import itertools
import json
import re
from importlib.resources import files
from pathlib import Path

import pytest

from bot.classify.postgresql.work import work
from bot.classify.sql import split
from bot.estimate import (
    HIGH_MARGIN,
    LOW_MARGIN,
    estimate_migration,
    format_bytes,
    format_range,
    format_rows,
    throughputs,
)
from bot.models import (
    Blocks,
    ChangeKind,
    Impact,
    Lock,
    MigrationReview,
    StatementReview,
    TableStats,
    Trace,
    TracedLock,
    Verdict,
    Work,
)
from bot.stats import load_stats

STATS = load_stats(str(Path(__file__).parent / "stats" / "table-stats.json"))
ORDER, CUSTOMER, INVOICE = STATS["shop_order"], STATS["shop_customer"], STATS["billing.invoice"]
F = throughputs()


def work_of(sql: str, *, rewrite: bool, scan: bool) -> Work:
    """The work the PostgreSQL classifier puts on a verdict of ``sql``."""
    parts = split(sql)
    nodes = [] if any(p.error for p in parts) else [n for p in parts for n in p.nodes]
    return work(nodes, rewrite=rewrite, scan=scan)


def statement(
    sql: str,
    mode: str = "AccessExclusiveLock",
    blocks: Blocks = "reads",
    *,
    table: str = "shop_order",
    rewrite: bool = False,
    scan: bool = False,
    trace: Trace | None = None,
    locks: list[Lock] | None = None,
) -> StatementReview:
    verdict = Verdict(
        source="traced" if trace else "static",
        locks=locks if locks is not None else [Lock(relation=table, mode=mode, blocks=blocks)],
        blocks=blocks,
        rewrite=rewrite,
        scan=scan,
        work=work_of(sql, rewrite=rewrite, scan=scan),
    )
    return StatementReview(index=0, sql=sql, static=verdict, final=verdict, trace=trace)


def migration(*statements: StatementReview, atomic: bool = True) -> MigrationReview:
    for n, s in enumerate(statements):
        s.index = n
    return MigrationReview(
        app_label="shop",
        name="0008_test",
        file="shop/migrations/0008_test.py",
        change=ChangeKind.added,
        atomic=atomic,
        statements=list(statements),
    )


def estimate(s: StatementReview, stats: dict[str, TableStats] | None = STATS) -> Impact:
    m = migration(s, atomic=False)
    estimate_migration(m, stats)
    assert s.impact is not None
    return s.impact


def calibrated(kind: str, rows: int | None, nbytes: int | None) -> list[float]:
    """The two readings of a duration: by row count and by bytes, at the calibrated rates."""
    f = F[kind]
    return [n / rate for n, rate in ((rows, f.rows_per_s), (nbytes, f.bytes_per_s)) if n and rate]


def widened(guesses: list[float]) -> tuple[float, float]:
    return min(guesses) * LOW_MARGIN, max(guesses) * HIGH_MARGIN


def scaled(stats: TableStats, factor: int) -> TableStats:
    return TableStats(
        table=stats.table,
        **{
            name: getattr(stats, name) * factor
            for name in ("rows", "table_bytes", "index_bytes", "toast_bytes")
        },
    )


# --- each kind of work --------------------------------------------------------------------------


def test_calibration_file_says_when_and_where() -> None:
    data = json.loads(files("bot").joinpath("data/throughput.json").read_text())
    assert re.match(r"\d{4}-\d\d-\d\dT", data["calibrated_at"])
    assert {"cpu", "cores", "postgresql"} <= set(data["machine"])
    assert set(data["kinds"]) == {"catalog", "scan", "rewrite", "index", "index-concurrent", "dml"}
    for kind in ("scan", "rewrite", "index", "index-concurrent", "dml"):
        assert F[kind].rows_per_s and F[kind].rows_per_s > 0
        assert F[kind].bytes_per_s and F[kind].bytes_per_s > 0
    assert F["catalog"].seconds is not None and 0 < F["catalog"].seconds < 1


def test_validate_constraint_scans_the_table() -> None:
    impact = estimate(
        statement(
            "ALTER TABLE shop_order VALIDATE CONSTRAINT shop_order_total_check",
            "ShareUpdateExclusiveLock",
            "none",
        )
    )
    assert impact.kind == "scan"
    low, high = widened(calibrated("scan", ORDER.rows, ORDER.table_bytes))
    assert (impact.seconds_low, impact.seconds_high) == pytest.approx((low, high))
    assert impact.rows == 12_400_000
    assert impact.summary == (
        "doesn't block reads or writes on shop_order, ~12.4M rows / 3.1 GB, "
        + format_range(low, high)
    )
    assert impact.lock_queue is None


def test_set_not_null_scan_blocks_reads_and_writes() -> None:
    impact = estimate(
        statement('ALTER TABLE "shop_customer" ALTER COLUMN "email" SET NOT NULL', scan=True,
                  table="shop_customer")
    )  # fmt: skip
    assert impact.kind == "scan"
    expected = widened(calibrated("scan", CUSTOMER.rows, CUSTOMER.table_bytes))
    assert (impact.seconds_low, impact.seconds_high) == pytest.approx(expected)
    assert impact.summary.startswith(
        "blocks reads and writes on shop_customer, ~2.1M rows / 500 MB"
    )


def test_rewrite_copies_the_rows_and_rebuilds_the_indexes() -> None:
    impact = estimate(
        statement('ALTER TABLE "shop_order" ALTER COLUMN "total" TYPE numeric(12, 2)', rewrite=True)
    )
    assert impact.kind == "rewrite"
    heap = calibrated("rewrite", ORDER.rows, ORDER.table_bytes + ORDER.toast_bytes)
    rebuild = ORDER.index_bytes / F["index"].index_bytes_per_s
    low, high = min(heap) + rebuild, max(heap) + rebuild
    assert impact.seconds_low == pytest.approx(low * LOW_MARGIN)
    assert impact.seconds_high == pytest.approx(high * HIGH_MARGIN)


def test_traced_rewrite_counts_the_indexes_it_rebuilt() -> None:
    trace = Trace(
        method="transaction",
        locks=[
            TracedLock(relation="shop_order", relkind="table", mode="AccessExclusiveLock"),
            *(
                TracedLock(relation=name, relkind="index", mode="AccessExclusiveLock")
                for name in ("shop_order_pkey", "shop_order_status_idx", "shop_order_created_idx")
            ),
            TracedLock(relation="pg_toast.pg_toast_16390", relkind="toast", mode="ShareLock"),
        ],
        rewritten=[
            "shop_order",
            "shop_order_pkey",
            "shop_order_status_idx",
            "shop_order_created_idx",
            "pg_toast.pg_toast_16390",
        ],
        lock_timeout="0",
    )
    sql = 'ALTER TABLE "shop_order" ALTER COLUMN "total" TYPE numeric(12, 2)'
    impact = estimate(statement(sql, rewrite=True, trace=trace))
    heap = calibrated("rewrite", ORDER.rows, ORDER.table_bytes + ORDER.toast_bytes)
    rebuild = [
        ORDER.index_bytes / F["index"].index_bytes_per_s,
        3 * ORDER.rows / F["index"].rows_per_s,
    ]
    assert impact.seconds_low == pytest.approx((min(heap) + min(rebuild)) * LOW_MARGIN)
    assert impact.seconds_high == pytest.approx((max(heap) + max(rebuild)) * HIGH_MARGIN)

    unknown = estimate(statement(sql, rewrite=True, trace=trace), stats=None)
    assert unknown.grows_with == (
        "table size: rewrites every row of shop_order and rebuilds its 3 indexes"
    )


def test_rewrite_copies_toast_too() -> None:
    sql = "ALTER TABLE billing.invoice ALTER COLUMN pdf TYPE bytea USING pdf::bytea"
    impact = estimate(statement(sql, rewrite=True, table="billing.invoice"))
    heap = calibrated("rewrite", INVOICE.rows, INVOICE.table_bytes + INVOICE.toast_bytes)
    rebuild = INVOICE.index_bytes / F["index"].index_bytes_per_s
    assert impact.seconds_high == pytest.approx((max(heap) + rebuild) * HIGH_MARGIN)
    assert impact.bytes == INVOICE.table_bytes + INVOICE.toast_bytes


def test_create_index_blocks_writes_for_the_build() -> None:
    impact = estimate(
        statement(
            'CREATE INDEX "shop_order_status_idx" ON "shop_order" ("status")', "ShareLock", "writes"
        )
    )
    assert impact.kind == "index"
    low, high = widened(calibrated("index", ORDER.rows, ORDER.table_bytes))
    assert (impact.seconds_low, impact.seconds_high) == pytest.approx((low, high))
    assert impact.summary == (
        f"blocks writes on shop_order, ~12.4M rows / 3.1 GB, {format_range(low, high)}"
    )


def test_unique_constraint_builds_an_index_under_access_exclusive() -> None:
    sql = 'ALTER TABLE "shop_customer" ADD CONSTRAINT "email_uniq" UNIQUE ("email")'
    impact = estimate(statement(sql, table="shop_customer"))
    assert impact.kind == "index"
    expected = widened(calibrated("index", CUSTOMER.rows, CUSTOMER.table_bytes))
    assert (impact.seconds_low, impact.seconds_high) == pytest.approx(expected)
    assert impact.blocks == "reads"


def test_concurrent_index_build() -> None:
    impact = estimate(
        statement(
            'CREATE INDEX CONCURRENTLY "shop_order_status_idx" ON "shop_order" ("status")',
            "ShareUpdateExclusiveLock",
            "none",
        )
    )
    assert impact.kind == "index-concurrent"
    expected = widened(calibrated("index-concurrent", ORDER.rows, ORDER.table_bytes))
    assert (impact.seconds_low, impact.seconds_high) == pytest.approx(expected)
    assert impact.summary.startswith("doesn't block reads or writes on shop_order")


def test_update_every_row() -> None:
    impact = estimate(
        statement('UPDATE "shop_order" SET "paid" = false', "RowExclusiveLock", "none")
    )
    assert impact.kind == "dml"
    guesses = calibrated("dml", ORDER.rows, ORDER.table_bytes + ORDER.index_bytes)
    assert (impact.seconds_low, impact.seconds_high) == pytest.approx(widened(guesses))
    assert impact.summary.startswith("locks the rows it updates in shop_order, ~12.4M rows")


def test_dml_with_where_may_touch_few_rows() -> None:
    impact = estimate(
        statement("DELETE FROM shop_order WHERE status = 'void'", "RowExclusiveLock", "none")
    )
    guesses = calibrated("dml", ORDER.rows, ORDER.table_bytes + ORDER.index_bytes)
    assert impact.seconds_low == 0
    assert impact.seconds_high == pytest.approx(max(guesses) * HIGH_MARGIN)
    assert "up to ~" in impact.summary
    assert impact.summary.startswith("locks the rows it deletes in shop_order")


def test_insert_select_is_sized_by_its_source() -> None:
    impact = estimate(
        statement(
            "INSERT INTO shop_order_archive SELECT * FROM shop_order",
            "RowExclusiveLock",
            "none",
            table="shop_order_archive",
        )
    )
    assert impact.table == "shop_order_archive"
    guesses = calibrated("dml", ORDER.rows, ORDER.table_bytes + ORDER.index_bytes)
    assert (impact.seconds_low, impact.seconds_high) == pytest.approx(widened(guesses))
    assert "copies ~12.4M rows / 3.1 GB from shop_order" in impact.summary


def test_catalog_change_is_instant_but_still_queues() -> None:
    impact = estimate(statement('ALTER TABLE "shop_order" ADD COLUMN "note" text NULL'))
    assert impact.kind == "catalog"
    assert (impact.seconds_low, impact.seconds_high) == (0, F["catalog"].seconds * HIGH_MARGIN)
    assert impact.summary == (
        "blocks reads and writes on shop_order, ~12.4M rows / 3.1 GB, < 1 s (catalog change)"
    )
    assert impact.lock_queue and "reads included" in impact.lock_queue


def test_insert_values_counts_its_rows() -> None:
    impact = estimate(
        statement(
            "INSERT INTO shop_status (name) VALUES ('new'), ('paid')",
            "RowExclusiveLock",
            "none",
            table="shop_status",
        )
    )
    assert impact.rows == 2
    assert impact.seconds_high is not None and impact.seconds_high < 1


@pytest.mark.parametrize(
    ("sql", "rewrite", "scan", "kind"),
    [
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", False, False, "scan"),
        ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID", False, False, "catalog"),
        ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id)", False, False, "scan"),
        (
            "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES u (id) NOT VALID",
            False,
            False,
            "catalog",
        ),
        ("ALTER TABLE t ADD CONSTRAINT p PRIMARY KEY (id)", False, False, "index"),
        ("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i", False, False, "catalog"),
        ("ALTER TABLE t ADD COLUMN c int NULL UNIQUE", False, False, "index"),
        ("ALTER TABLE t ALTER COLUMN c SET NOT NULL", False, False, "catalog"),
        ("ALTER TABLE t ALTER COLUMN c SET NOT NULL", False, True, "scan"),
        ("ALTER TABLE t ALTER COLUMN c TYPE bigint", True, False, "rewrite"),
        ("VACUUM FULL t", True, False, "rewrite"),
        ("DO $$ BEGIN PERFORM 1; END $$", False, False, "unknown"),
        ("SELECT refresh_everything()", False, False, "unknown"),
        ("DROP TABLE t", False, False, "catalog"),
        ("not sql at all", False, False, "unknown"),
    ],
)
def test_kind_from_verdict_and_sql(sql: str, rewrite: bool, scan: bool, kind: str) -> None:
    impact = estimate(statement(sql, table="t", rewrite=rewrite, scan=scan), stats=None)
    assert impact.kind == kind


@pytest.mark.parametrize(
    ("sql", "mode", "blocks", "rewrite", "scan"),
    [
        ("ALTER TABLE shop_order VALIDATE CONSTRAINT c", "ShareUpdateExclusiveLock", "none", 0, 1),
        ("ALTER TABLE shop_order ALTER COLUMN a TYPE bigint", "AccessExclusiveLock", "reads", 1, 0),
        ("CREATE INDEX i ON shop_order (a)", "ShareLock", "writes", 0, 0),
        ("CREATE INDEX CONCURRENTLY i ON shop_order (a)", "ShareUpdateExclusiveLock", "none", 0, 0),
        ("UPDATE shop_order SET a = 1", "RowExclusiveLock", "none", 0, 0),
    ],
)
def test_duration_grows_with_the_table(
    sql: str, mode: str, blocks: Blocks, rewrite: int, scan: int
) -> None:
    ranges = []
    for factor in (1, 10, 100):
        stats = {"shop_order": scaled(ORDER, factor)}
        s = statement(sql, mode, blocks, rewrite=bool(rewrite), scan=bool(scan))
        impact = estimate(s, stats)
        ranges.append((impact.seconds_low, impact.seconds_high))
    for (low, high), (bigger_low, bigger_high) in itertools.pairwise(ranges):
        assert 0 < low < high
        assert bigger_low == pytest.approx(10 * low)
        assert bigger_high == pytest.approx(10 * high)


# --- without statistics -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "mode", "blocks", "rewrite", "scan", "grows"),
    [
        (
            "ALTER TABLE shop_order VALIDATE CONSTRAINT c",
            "ShareUpdateExclusiveLock",
            "none",
            0,
            1,
            "table size: reads every row of shop_order to check it",
        ),
        (
            "ALTER TABLE shop_order ALTER COLUMN a TYPE bigint",
            "AccessExclusiveLock",
            "reads",
            1,
            0,
            "table size: rewrites every row of shop_order and rebuilds all its indexes",
        ),
        (
            "CREATE INDEX i ON shop_order (a)",
            "ShareLock",
            "writes",
            0,
            0,
            "table size: reads every row of shop_order and sorts it into the new index",
        ),
        (
            "UPDATE shop_order SET a = 1 WHERE b",
            "RowExclusiveLock",
            "none",
            0,
            0,
            "rows touched: updates the rows matching its WHERE clause of shop_order, one by one",
        ),
    ],
)
def test_without_stats_says_what_it_grows_with(
    sql: str, mode: str, blocks: Blocks, rewrite: int, scan: int, grows: str
) -> None:
    impact = estimate(statement(sql, mode, blocks, rewrite=bool(rewrite), scan=bool(scan)), None)
    assert impact.seconds_low is None and impact.seconds_high is None
    assert impact.rows is None and impact.bytes is None
    assert impact.grows_with == grows
    assert impact.summary.endswith(", duration unknown: no table statistics")
    assert not re.search(r"\d", impact.summary)


def test_table_missing_from_the_stats() -> None:
    impact = estimate(statement("CREATE INDEX i ON shop_refund (a)", "ShareLock", "writes",
                                table="shop_refund"))  # fmt: skip
    assert impact.seconds_high is None
    assert impact.grows_with is not None
    assert impact.summary == (
        "blocks writes on shop_refund, duration unknown: "
        "shop_refund is not in the table statistics (a new table?)"
    )


def test_never_analyzed_table_is_sized_by_bytes() -> None:
    cart = STATS["shop_cart"]
    impact = estimate(
        statement("ALTER TABLE shop_cart VALIDATE CONSTRAINT c", "ShareUpdateExclusiveLock",
                  "none", table="shop_cart")
    )  # fmt: skip
    seconds = cart.table_bytes / F["scan"].bytes_per_s
    assert impact.seconds_low == pytest.approx(seconds * LOW_MARGIN)
    assert impact.seconds_high == pytest.approx(seconds * HIGH_MARGIN)
    assert impact.summary.startswith("doesn't block reads or writes on shop_cart, 800 kB, ")


def test_table_created_in_the_migration_is_empty() -> None:
    m = migration(
        statement('CREATE TABLE "shop_order" ("id" bigint NOT NULL PRIMARY KEY)'),
        statement('CREATE INDEX "i" ON "shop_order" ("id")', "ShareLock", "writes"),
        atomic=False,
    )
    estimate_migration(m, STATS)
    impact = m.statements[1].impact
    assert impact is not None
    assert impact.seconds_high is not None and impact.seconds_high < 1
    assert impact.rows == 0
    assert impact.summary == (
        "blocks writes on shop_order (shop_order is created in this migration: empty), < 1 s"
    )


def test_unknown_work_is_not_sized_even_with_stats() -> None:
    impact = estimate(statement("DO $$ BEGIN PERFORM pg_sleep(1); END $$", table="shop_order"))
    assert impact.kind == "unknown"
    assert impact.seconds_high is None
    assert impact.summary.endswith("duration unknown: the model can't size procedural SQL")


# --- which table ------------------------------------------------------------------------------


def test_table_is_where_the_strongest_table_lock_is() -> None:
    """CREATE INDEX locks its new index ACCESS EXCLUSIVE: the SHARE lock on the table counts."""
    trace = Trace(
        method="transaction",
        locks=[
            TracedLock(relation="shop_order", relkind="table", mode="ShareLock"),
            TracedLock(relation="i", relkind="index", mode="AccessExclusiveLock", created=True),
        ],
        lock_timeout="0",
    )
    locks = [
        Lock(relation="shop_order", mode="ShareLock", blocks="writes"),
        Lock(relation="i", mode="AccessExclusiveLock", blocks="reads"),
    ]
    s = statement("CREATE INDEX i ON shop_order (a)", blocks="writes", trace=trace, locks=locks)
    impact = estimate(s)
    assert impact.table == "shop_order"
    assert impact.rows == ORDER.rows
    assert impact.lock_queue and impact.lock_queue.startswith(
        "Before it starts, the SHARE lock on shop_order waits"
    )


def test_schema_qualified_and_quoted_relations_find_their_stats() -> None:
    for relation in ('"billing"."invoice"', "billing.invoice"):
        s = statement(
            'ALTER TABLE "billing"."invoice" VALIDATE CONSTRAINT c',
            locks=[Lock(relation=relation, mode="ShareUpdateExclusiveLock", blocks="none")],
            blocks="none",
        )
        impact = estimate(s)
        assert impact.rows == INVOICE.rows
        assert impact.table == "billing.invoice"


# --- the lock queue -----------------------------------------------------------------------------


def traced(lock_timeout: str | None) -> Trace:
    return Trace(method="transaction", lock_timeout=lock_timeout)


def test_lock_queue_without_lock_timeout_points_at_the_rule() -> None:
    impact = estimate(statement("ALTER TABLE shop_order ADD COLUMN a int", trace=traced("0")))
    text = impact.lock_queue
    assert text is not None
    assert "waits for every transaction that has touched shop_order" in text
    assert "every new query on shop_order, reads included, queues behind it" in text
    assert "lock_timeout: none (0): it can wait forever" in text
    # the remedy, with its code, is the rule's: one place, not repeated per statement
    assert "`MR-NO-LOCK-TIMEOUT`" in text
    assert "RunSQL" not in text


def test_lock_queue_with_lock_timeout() -> None:
    impact = estimate(
        statement("CREATE INDEX i ON shop_order (a)", "ShareLock", "writes", trace=traced("5s"))
    )
    text = impact.lock_queue
    assert text is not None
    assert "every new write to shop_order queues behind it (reads go on)" in text
    assert "lock_timeout: 5s: if the lock isn't granted within 5s the migration fails" in text
    assert "RunSQL" not in text


def test_lock_queue_when_not_traced() -> None:
    impact = estimate(statement("ALTER TABLE shop_order ADD COLUMN a int"))
    assert impact.lock_queue is not None
    assert "lock_timeout: unknown (not traced)" in impact.lock_queue
    assert "`MR-NO-LOCK-TIMEOUT`" in impact.lock_queue


def test_no_lock_queue_for_a_lock_the_migration_already_holds() -> None:
    """In one transaction, a lock is queued for once: later statements already have it."""
    first = statement("ALTER TABLE shop_order ADD COLUMN a int", trace=traced("0"))
    again = statement("ALTER TABLE shop_order ADD COLUMN b int", trace=traced("0"))
    weaker = statement("CREATE INDEX i ON shop_order (a)", "ShareLock", "reads", trace=traced("0"))
    other = statement("ALTER TABLE shop_customer ADD COLUMN a int", table="shop_customer")
    estimate_migration(migration(first, again, weaker, other), STATS)
    assert first.impact and first.impact.lock_queue
    assert again.impact and again.impact.lock_queue is None
    assert weaker.impact and weaker.impact.lock_queue is None
    assert weaker.impact.summary.startswith("blocks reads and writes on shop_order")
    assert other.impact and other.impact.lock_queue

    # Without a transaction around them, each statement queues on its own.
    for s in (first, again):
        s.impact = None
    estimate_migration(migration(first, again, atomic=False), STATS)
    assert again.impact and again.impact.lock_queue


def test_no_lock_queue_when_nothing_is_blocked() -> None:
    s = statement("CREATE INDEX CONCURRENTLY i ON shop_order (a)", "ShareUpdateExclusiveLock",
                  "none", trace=traced("0"))  # fmt: skip
    assert estimate(s).lock_queue is None


# --- the migration ------------------------------------------------------------------------------


def test_migration_impact_is_the_longest_blocking_statement() -> None:
    m = migration(
        statement("ALTER TABLE shop_order ADD COLUMN a int"),
        statement("UPDATE shop_customer SET a = 1", "RowExclusiveLock", "none",
                  table="shop_customer"),
        statement("CREATE INDEX i ON shop_order (a)", "ShareLock", "writes"),
        statement("ALTER TABLE shop_customer ADD COLUMN b int", table="shop_customer"),
        atomic=False,
    )  # fmt: skip
    estimate_migration(m, STATS)
    assert m.impact is m.statements[2].impact

    estimate_migration(m, None)
    assert m.impact is m.statements[2].impact  # blocking and sized beats blocking and instant


def test_atomic_migration_holds_its_locks_until_commit() -> None:
    """ADD COLUMN is instant, but the backfill after it keeps shop_order locked until COMMIT."""
    add = statement("ALTER TABLE shop_order ADD COLUMN paid boolean NULL")
    backfill = statement("UPDATE shop_order SET paid = false", "RowExclusiveLock", "none")
    m = migration(add, backfill)
    estimate_migration(m, STATS)
    assert add.impact and backfill.impact
    update = widened(calibrated("dml", ORDER.rows, ORDER.table_bytes + ORDER.index_bytes))
    assert add.impact.seconds_low == pytest.approx(update[0])
    assert add.impact.seconds_high == pytest.approx(F["catalog"].seconds * HIGH_MARGIN + update[1])
    assert add.impact.summary.endswith(
        "; held until the migration commits, through 1 later statement"
    )
    assert m.impact is add.impact

    add = statement("ALTER TABLE shop_order ADD COLUMN paid boolean NULL")
    backfill = statement("UPDATE shop_order SET paid = false", "RowExclusiveLock", "none")
    m = migration(add, backfill)
    estimate_migration(m, None)
    assert m.statements[0].impact and m.statements[0].impact.seconds_high is None
    assert "duration unknown: it includes later statements" in m.statements[0].impact.summary


def test_empty_migration_has_no_impact() -> None:
    m = migration()
    estimate_migration(m, STATS)
    assert m.impact is None


# --- formatting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("low", "high", "text"),
    [
        (40, 120, "~40 s\N{EN DASH}2 min"),
        (2.2, 8.4, "~2\N{EN DASH}8 s"),
        (0.2, 300, "up to ~5 min"),
        (0.01, 0.5, "< 1 s"),
        (100, 110, "~1.7\N{EN DASH}1.8 min"),
        (100, 103, "~1.7 min"),
        (3600, 4 * 3600, "~60 min\N{EN DASH}4 h"),
    ],
)
def test_format_range(low: float, high: float, text: str) -> None:
    assert format_range(low, high) == text


def test_format_sizes() -> None:
    assert format_rows(12_400_000) == "12.4M"
    assert format_rows(2_000_000_000) == "2B"
    assert format_rows(950) == "950"
    assert format_bytes(ORDER.table_bytes) == "3.1 GB"
    assert format_bytes(500 * 1024**2) == "500 MB"
    assert format_bytes(100) == "100 bytes"
