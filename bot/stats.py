"""Table statistics: how big the production tables are, from one documented catalog query.

The bot never needs access to production to estimate impact. The user runs ``STATS_QUERY``
(``migration-review stats-query`` prints it, wrapped for JSON or CSV output) and hands the file to
the review; or gives a read-only ``stats-database-url`` on which the bot runs that query and
nothing else. Either way the numbers come from the catalog: the planner's row estimate
(``pg_class.reltuples``, refreshed by ANALYZE) and the on-disk sizes, never from counting rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bot.errors import ReviewError
from bot.models import TableStats

STAGE = "estimate"
COLUMNS = ("table", "rows", "table_bytes", "index_bytes", "toast_bytes")

# reltuples is -1 until the table is first vacuumed or analyzed (PostgreSQL 14+); then the
# statistics counters' live-row count is the best guess, and a table with no pages is empty.
# A partitioned table has no storage of its own: its figures are the sums over its leaf partitions.
# pg_relation_size() takes an ACCESS SHARE lock on each table: the bot sets a short lock_timeout
# so it never queues behind a running migration.
STATS_QUERY = """\
SELECT CASE WHEN n.nspname = 'public' THEN c.relname
            ELSE n.nspname || '.' || c.relname END AS "table",
       CASE WHEN bool_and(leaf.rows IS NOT NULL) THEN sum(leaf.rows)::bigint END AS rows,
       sum(leaf.table_bytes)::bigint AS table_bytes,
       sum(leaf.index_bytes)::bigint AS index_bytes,
       sum(leaf.toast_bytes)::bigint AS toast_bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (
    SELECT CASE WHEN p.reltuples >= 0 THEN p.reltuples::bigint
                WHEN s.n_live_tup > 0 THEN s.n_live_tup
                WHEN pg_relation_size(p.oid) = 0 THEN 0
           END AS rows,
           pg_relation_size(p.oid) AS table_bytes,
           pg_indexes_size(p.oid) AS index_bytes,
           coalesce(pg_total_relation_size(nullif(p.reltoastrelid, 0)), 0) AS toast_bytes
    FROM (SELECT c.oid WHERE c.relkind <> 'p'
          UNION ALL
          SELECT relid FROM pg_partition_tree(c.oid) WHERE c.relkind = 'p' AND isleaf
         ) AS part (oid)
    JOIN pg_class p ON p.oid = part.oid
    LEFT JOIN pg_stat_user_tables s ON s.relid = p.oid
) AS leaf
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%'
GROUP BY n.nspname, c.relname
ORDER BY 1"""

JSON_QUERY = f"SELECT coalesce(json_agg(t), '[]')\nFROM (\n{STATS_QUERY}\n) AS t;\n"
CSV_QUERY = f"COPY (\n{STATS_QUERY}\n) TO STDOUT WITH (FORMAT csv, HEADER);\n"

HOW_TO = {
    "json": (
        "-- Table statistics for django-migration-review, as JSON.\n"
        "-- Run on the production database (or a replica); it reads the catalog only:\n"
        '--   migration-review stats-query | psql -At "$DATABASE_URL" > table-stats.json\n'
        "-- then: migration-review analyze --table-stats table-stats.json ...\n"
    ),
    "csv": (
        "-- Table statistics for django-migration-review, as CSV (psql's \\copy does the same).\n"
        "-- Run on the production database (or a replica); it reads the catalog only:\n"
        "--   migration-review stats-query --format csv \\\n"
        '--     | psql -q "$DATABASE_URL" > table-stats.csv\n'
        "-- then: migration-review analyze --table-stats table-stats.csv ...\n"
    ),
    "sql": "-- Table statistics for django-migration-review: one row per table.\n",
}
QUERIES = {"json": JSON_QUERY, "csv": CSV_QUERY, "sql": STATS_QUERY + ";\n"}

HINT = (
    'produce the file with `migration-review stats-query | psql -At "$DATABASE_URL" > '
    "table-stats.json` (or --format csv); columns: " + ", ".join(COLUMNS)
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=sorted(QUERIES),
        default="json",
        help="json: one JSON array (psql -At); csv: COPY ... CSV HEADER; sql: the bare query.",
    )


def run(args: argparse.Namespace) -> int:
    print(HOW_TO[args.format] + QUERIES[args.format], end="")
    return 0


def load_stats(source: str) -> dict[str, TableStats]:
    """Table statistics keyed by table name: bare in ``public``, ``schema.table`` elsewhere."""
    if source.startswith(("postgresql://", "postgres://")):
        rows = _query(source)
    else:
        rows = _read_file(Path(source))
    return {row.table: row for row in rows}


def lookup(stats: dict[str, TableStats], relation: str) -> TableStats | None:
    """The statistics of ``relation`` as a migration names it: quoted, schema-qualified or bare."""
    name = relation.replace('"', "")
    if name in stats:
        return stats[name]
    schema, _, bare = name.rpartition(".")
    if schema == "public" and bare in stats:
        return stats[bare]
    if not schema:
        # A bare name outside public resolves through search_path; accept it when unambiguous.
        found = [s for key, s in stats.items() if key.rpartition(".")[2] == name]
        if len(found) == 1:
            return found[0]
    return None


def _query(url: str) -> list[TableStats]:
    shown = _redact(url)
    try:
        with psycopg.connect(url, connect_timeout=10, application_name="migration-review") as conn:
            read_only(conn)
            cursor = conn.execute(STATS_QUERY)
            names = [d.name for d in cursor.description or ()]
            result = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            conn.rollback()
    except psycopg.Error as exc:
        raise ReviewError(
            f"could not read table statistics from {shown}: {str(exc).strip()}",
            stage=STAGE,
            file=shown,
            hint="check the stats-database-url; the role needs only CONNECT and may be read-only",
        ) from exc
    return [_row(record, shown, f"row {n}") for n, record in enumerate(result, 1)]


def read_only(conn: psycopg.Connection) -> None:
    """Start a transaction that can't write, and can't hold up production for long."""
    conn.execute("SET TRANSACTION READ ONLY")
    conn.execute("SET LOCAL statement_timeout = '30s'")
    conn.execute("SET LOCAL lock_timeout = '2s'")


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _read_file(path: Path) -> list[TableStats]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReviewError(
            f"cannot read the table statistics: {exc.strerror}",
            stage=STAGE,
            file=str(path),
            hint=HINT,
        ) from exc
    except UnicodeDecodeError as exc:
        raise ReviewError(
            "the table statistics file is not UTF-8 text", stage=STAGE, file=str(path), hint=HINT
        ) from exc
    if path.suffix.lower() == ".csv" or not text.lstrip().startswith(("[", "{")):
        return _read_csv(text, str(path))
    return _read_json(text, str(path))


def _read_json(text: str, file: str) -> list[TableStats]:
    def invalid(message: str) -> ReviewError:
        return ReviewError(message, stage=STAGE, file=file, hint=HINT)

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid(f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}") from exc
    if not isinstance(data, list):
        raise invalid(f"expected a JSON array of tables, got {type(data).__name__}")
    rows = []
    for n, record in enumerate(data, 1):
        if not isinstance(record, dict):
            raise invalid(f"entry {n}: expected an object with {', '.join(COLUMNS)}")
        rows.append(_row(record, file, f"entry {n}"))
    return rows


def _read_csv(text: str, file: str) -> list[TableStats]:
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or "table" not in reader.fieldnames:
        raise ReviewError(
            "line 1: the CSV header must name the columns " + ", ".join(COLUMNS),
            stage=STAGE,
            file=file,
            hint=HINT,
        )
    rows = []
    for record in reader:
        where = f"line {reader.line_num}"
        if None in record:
            raise ReviewError(
                f"{where}: more values than the header has columns",
                stage=STAGE,
                file=file,
                hint=HINT,
            )
        rows.append(_row({k: v or None for k, v in record.items()}, file, where))
    return rows


def _row(record: dict[str, object], file: str, where: str) -> TableStats:
    unknown = sorted(set(record) - set(COLUMNS))
    if unknown:
        raise ReviewError(
            f"{where}: unknown column {unknown[0]!r} (expected {', '.join(COLUMNS)})",
            stage=STAGE,
            file=file,
            hint=HINT,
        )
    table = record.get("table")
    if not isinstance(table, str) or not table.strip():
        raise ReviewError(
            f"{where}, column 'table': a table name is required", stage=STAGE, file=file, hint=HINT
        )
    numbers = {name: _count(record.get(name), file, where, name) for name in COLUMNS[1:]}
    return TableStats(table=table.strip(), **numbers)


def _count(value: object, file: str, where: str, column: str) -> int | None:
    """A row count or size: a non-negative integer, or nothing when unknown."""
    if value is None:
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or math.isnan(number) or math.isinf(number) or number != int(number):
        raise ReviewError(
            f"{where}, column {column!r}: expected a whole number, got {value!r}",
            stage=STAGE,
            file=file,
            hint=HINT,
        )
    if number < 0:
        # reltuples = -1: a table never analyzed, written by an older version of the query.
        return None
    return int(number)
