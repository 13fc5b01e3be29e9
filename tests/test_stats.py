"""Table statistics: the documented catalog query on a real server, and the files it produces."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from bot.cli import main
from bot.collector.mr_collector.cluster import ScratchDatabase
from bot.errors import ReviewError
from bot.models import TableStats
from bot.stats import CSV_QUERY, JSON_QUERY, load_stats, lookup, read_only
from tests.conftest import missing

HERE = Path(__file__).parent / "stats"

EXPECTED = {
    "shop_order": TableStats(
        table="shop_order",
        rows=12_400_000,
        table_bytes=3_328_599_654,
        index_bytes=1_073_741_824,
        toast_bytes=8192,
    ),
    "shop_customer": TableStats(
        table="shop_customer",
        rows=2_100_000,
        table_bytes=524_288_000,
        index_bytes=157_286_400,
        toast_bytes=0,
    ),
    "billing.invoice": TableStats(
        table="billing.invoice",
        rows=50_000,
        table_bytes=40_960_000,
        index_bytes=2_048_000,
        toast_bytes=734_003_200,
    ),
    "shop_cart": TableStats(
        table="shop_cart", rows=None, table_bytes=819_200, index_bytes=16_384, toast_bytes=0
    ),
}


def test_json_file() -> None:
    assert load_stats(str(HERE / "table-stats.json")) == EXPECTED


def test_csv_file_reads_the_same_as_json() -> None:
    assert load_stats(str(HERE / "table-stats.csv")) == EXPECTED


def test_lookup_by_the_names_migrations_use() -> None:
    stats = load_stats(str(HERE / "table-stats.json"))
    assert lookup(stats, "shop_order") is stats["shop_order"]
    assert lookup(stats, '"shop_order"') is stats["shop_order"]
    assert lookup(stats, "public.shop_order") is stats["shop_order"]
    assert lookup(stats, "billing.invoice") is stats["billing.invoice"]
    assert lookup(stats, "invoice") is stats["billing.invoice"]  # through search_path
    assert lookup(stats, "public.invoice") is None
    assert lookup(stats, "shop_missing") is None


def test_lookup_refuses_an_ambiguous_bare_name() -> None:
    stats = {
        "a.item": TableStats(table="a.item", rows=1),
        "b.item": TableStats(table="b.item", rows=2),
    }
    assert lookup(stats, "item") is None
    assert lookup(stats, "b.item") == stats["b.item"]


def test_never_analyzed_rows_from_an_older_query_are_unknown(tmp_path: Path) -> None:
    path = tmp_path / "stats.csv"
    path.write_text("table,rows,table_bytes\nshop_order,-1,8192\n")
    assert load_stats(str(path)) == {
        "shop_order": TableStats(table="shop_order", rows=None, table_bytes=8192)
    }


def error_for(source: str) -> ReviewError:
    with pytest.raises(ReviewError) as caught:
        load_stats(source)
    assert caught.value.error.stage == "estimate"
    assert caught.value.error.hint and "stats-query" in caught.value.error.hint
    return caught.value


def test_bad_json_names_file_line_and_column() -> None:
    path = str(HERE / "bad-syntax.json")
    error = error_for(path).error
    assert error.file == path
    assert error.message.startswith("line 3 column 30: invalid JSON")


def test_bad_csv_value_names_line_and_column() -> None:
    error = error_for(str(HERE / "bad-value.csv")).error
    assert error.message == "line 3, column 'rows': expected a whole number, got '2.1M'"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("object.json", '{"table": "t"}', "expected a JSON array of tables, got dict"),
        ("list.json", "[1]", "entry 1: expected an object"),
        ("noname.json", '[{"rows": 3}]', "entry 1, column 'table': a table name is required"),
        ("typo.json", '[{"table": "t", "row": 3}]', "entry 1: unknown column 'row'"),
        ("float.json", '[{"table": "t", "rows": 2.5}]', "entry 1, column 'rows': expected a whole"),
        ("bool.json", '[{"table": "t", "rows": true}]', "entry 1, column 'rows': expected a whole"),
        ("header.csv", "name,rows\nt,1\n", "line 1: the CSV header must name the columns"),
        ("extra.csv", "table,rows\nt,1,2\n", "line 2: more values than the header has columns"),
        ("latin1.csv", b"table\n\xe9\n", "the table statistics file is not UTF-8 text"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, text: str | bytes, message: str) -> None:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    error = error_for(str(path)).error
    assert error.file == str(path)
    assert error.message.startswith(message)


def test_missing_file(tmp_path: Path) -> None:
    error = error_for(str(tmp_path / "nope.json")).error
    assert error.message == "cannot read the table statistics: No such file or directory"


@pytest.mark.parametrize("fmt", ["json", "csv", "sql"])
def test_stats_query_command_prints_a_runnable_query(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats-query", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.startswith("-- Table statistics for django-migration-review")
    assert "pg_stat_user_tables" in out
    assert "reltuples" in out
    assert out.rstrip().endswith(";")


# --- on a real server ---------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE shop_order (id bigint PRIMARY KEY, status varchar(20), note text);
CREATE INDEX shop_order_status ON shop_order (status);
INSERT INTO shop_order SELECT g, 'paid', md5(g::text) FROM generate_series(1, 20000) g;
CREATE SCHEMA billing;
CREATE TABLE billing.invoice (id bigint PRIMARY KEY, pdf text);
INSERT INTO billing.invoice
SELECT g, (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 200) i)
FROM generate_series(1, 300) g;
CREATE TABLE shop_event (id bigint, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE shop_event_2024 PARTITION OF shop_event
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE shop_event_2025 PARTITION OF shop_event
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO shop_event SELECT g, date '2024-06-01' + (g % 180) FROM generate_series(1, 5000) g;
CREATE TABLE shop_empty (id bigint) WITH (autovacuum_enabled = false);
CREATE TABLE shop_fresh (id bigint) WITH (autovacuum_enabled = false);
CREATE MATERIALIZED VIEW shop_paid AS SELECT id FROM shop_order WHERE status = 'paid';
ANALYZE shop_order, billing.invoice, shop_event, shop_paid;
"""

SIZES = """
SELECT pg_relation_size(%(t)s::regclass), pg_indexes_size(%(t)s::regclass),
       coalesce(pg_total_relation_size(nullif(reltoastrelid, 0)), 0)
FROM pg_class WHERE oid = %(t)s::regclass
"""


@pytest.fixture(scope="module")
def stats_db(pg_url: str):
    with ScratchDatabase(pg_url) as scratch, psycopg.connect(scratch.url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        # Rows written and never analyzed: only the statistics counters know them.
        conn.execute("INSERT INTO shop_fresh SELECT generate_series(1, 500)")
        conn.execute("SELECT pg_stat_force_next_flush()")
        yield scratch.url, conn


def sizes(conn: psycopg.Connection, table: str) -> tuple[int, int, int]:
    row = conn.execute(SIZES, {"t": table}).fetchone()
    assert row is not None
    return row


def test_query_on_a_real_server(stats_db: tuple[str, psycopg.Connection]) -> None:
    url, conn = stats_db
    stats = load_stats(url)

    assert set(stats) == {
        "shop_order",
        "billing.invoice",
        "shop_event",
        "shop_event_2024",
        "shop_event_2025",
        "shop_empty",
        "shop_fresh",
        "shop_paid",
    }
    for name in ("shop_order", "billing.invoice", "shop_event_2024", "shop_paid"):
        table, indexes, toast = sizes(conn, name)
        assert (stats[name].table_bytes, stats[name].index_bytes) == (table, indexes), name
        assert stats[name].toast_bytes == toast, name

    assert stats["shop_order"].rows == 20_000
    assert stats["shop_order"].table_bytes > 1_000_000
    assert stats["shop_order"].index_bytes > 2 * 8192  # primary key and status index
    assert stats["shop_paid"].rows == 20_000
    invoice = stats["billing.invoice"]
    assert invoice.rows == 300
    assert invoice.toast_bytes > 5 * invoice.table_bytes  # 6 kB per row, stored out of line

    # A partitioned table has no storage: its figures are its partitions' sums.
    event, p2024, p2025 = stats["shop_event"], stats["shop_event_2024"], stats["shop_event_2025"]
    assert (p2024.rows, p2025.rows) == (5000, 0)
    assert event.rows == 5000
    assert event.table_bytes == p2024.table_bytes + p2025.table_bytes > 0

    # reltuples = -1: never analyzed. An empty file means no rows; else the live-row counter.
    assert stats["shop_empty"].rows == 0
    assert stats["shop_fresh"].rows == 500


def test_files_from_the_printed_queries_match_the_server(
    stats_db: tuple[str, psycopg.Connection], tmp_path: Path
) -> None:
    url, conn = stats_db
    direct = load_stats(url)

    row = conn.execute(JSON_QUERY).fetchone()
    assert row is not None
    (tmp_path / "stats.json").write_text(json.dumps(row[0]))
    assert load_stats(str(tmp_path / "stats.json")) == direct

    with conn.cursor().copy(CSV_QUERY) as copy:
        csv_bytes = b"".join(bytes(chunk) for chunk in copy)
    (tmp_path / "stats.csv").write_bytes(csv_bytes)
    assert load_stats(str(tmp_path / "stats.csv")) == direct


@pytest.fixture(scope="module")
def psql(pg_bin: Path) -> str:
    found = shutil.which("psql") or shutil.which("psql", path=(pg_bin / "initdb").resolve().parent)
    if not found:
        missing("no psql client on PATH or next to initdb")
    return str(found)


def test_the_documented_psql_command(
    stats_db: tuple[str, psycopg.Connection], psql: str, tmp_path: Path
) -> None:
    """`migration-review stats-query | psql -At "$DATABASE_URL" > table-stats.json`"""
    url, _ = stats_db
    for fmt, flags in (("json", ["-At"]), ("csv", ["-q"])):
        query = subprocess.run(
            [sys.executable, "-m", "bot", "stats-query", "--format", fmt],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        out = subprocess.run(
            [psql, *flags, "-v", "ON_ERROR_STOP=1", url],
            input=query,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        path = tmp_path / f"table-stats.{fmt}"
        path.write_text(out)
        assert load_stats(str(path)) == load_stats(url)


def test_never_queues_behind_a_migration(stats_db: tuple[str, psycopg.Connection]) -> None:
    """pg_relation_size() needs ACCESS SHARE: the short lock_timeout turns a wait into an error."""
    url, _ = stats_db
    locked, release = threading.Event(), threading.Event()

    def migration() -> None:
        with psycopg.connect(url) as other:
            other.execute("LOCK TABLE shop_order IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=migration)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        with pytest.raises(ReviewError) as caught:
            load_stats(url)
        assert time.monotonic() - started < 10
        assert "lock timeout" in caught.value.error.message
    finally:
        release.set()
        holder.join()


def test_read_only_transaction(stats_db: tuple[str, psycopg.Connection]) -> None:
    """The transaction the query runs in can't write, whatever the role may do."""
    url, _ = stats_db
    with psycopg.connect(url) as conn:
        read_only(conn)
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE shop_written (id int)")


def test_unreachable_server_hides_the_password() -> None:
    with pytest.raises(ReviewError) as caught:
        load_stats("postgresql://reader:s3cret@127.0.0.1:1/prod")
    error = caught.value.error
    assert error.stage == "estimate"
    assert "s3cret" not in str(caught.value)
    assert error.file == "postgresql://reader:***@127.0.0.1:1/prod"
