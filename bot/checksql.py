"""``migration-review check-sql``: classify raw SQL files statement by statement, like squawk.

For teams whose migrations are mostly RunSQL, and for comparing with other linters. The files
run as psql would run them: outside a BEGIN block every statement commits on its own, so a table
counts as new only within the transaction that created it. ``--trace`` also runs them on a
scratch database (never an existing one) and shows what PostgreSQL really locked.
``--dialect mysql`` and ``--dialect sqlite`` read MySQL/MariaDB and SQLite instead (statically).

Exit codes: 0 nothing reaches ``--fail-on``, 1 something does, 2 a file or tool error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from bot.classify import backend_for, classify_sql
from bot.classify.locks import describe_blocks
from bot.classify.mysql.analyzer import Server
from bot.classify.postgresql import DEFAULT_VERSION as DEFAULT_PG_VERSION
from bot.classify.review import BACKENDS
from bot.classify.rules import RULES
from bot.classify.sql import statements
from bot.cli import seconds
from bot.collect import TIMEOUT
from bot.errors import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, ReviewError
from bot.models import Risk, StatementReview, Verdict
from bot.pgbin import add_pg_bin_argument, choose_binaries

BLOCKS_RANK = {"none": 0, "writes": 1, "reads": 2}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE.sql", help="SQL files to classify")
    parser.add_argument(
        "--pg-version",
        type=int,
        metavar="N",
        help="PostgreSQL major version the rules assume (default: the server's with --trace, "
        f"else {DEFAULT_PG_VERSION})",
    )
    parser.add_argument(
        "--dialect",
        choices=BACKENDS,
        default="postgresql",
        help="the SQL's database: postgresql (default), mysql (MySQL and MariaDB) or sqlite",
    )
    parser.add_argument(
        "--server-version",
        metavar="VERSION",
        help="with --dialect mysql: the server version the rules assume, e.g. 8.0.28 or "
        "10.11-mariadb (default: MySQL 8.4)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also run the SQL on a scratch PostgreSQL and report the locks it really took",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="with --trace: a server to create the scratch database on (default: a throwaway "
        "cluster started for the run)",
    )
    add_pg_bin_argument(parser)
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=TIMEOUT,
        metavar="SECONDS",
        help=f"with --trace: stop when running the SQL takes longer ({TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--fail-on",
        choices=[risk.value for risk in Risk],
        default=Risk.high.value,
        help="exit 1 when a statement reaches this risk (default: high)",
    )


def run(args: argparse.Namespace) -> int:
    if args.database_url and not args.trace:
        raise ReviewError(
            "--database-url is only used with --trace",
            stage="classify",
            hint="add --trace to run the SQL on a scratch database on that server",
        )
    if args.trace and args.dialect != "postgresql":
        raise ReviewError(
            f"--trace runs the SQL on PostgreSQL only, not with --dialect {args.dialect}",
            stage="classify",
            hint="drop --trace; for MySQL/MariaDB, `migration-review analyze --database-url "
            "mysql://...` verifies each ALTER TABLE of your migrations on the server itself",
        )
    if args.server_version is not None:
        try:
            Server.parse(args.server_version)
        except ValueError:
            raise ReviewError(
                f"--server-version {args.server_version} is not a MySQL or MariaDB version",
                stage="classify",
                hint="pass it as the server prints it, e.g. 8.0.36 or 10.11.6-MariaDB",
            ) from None
    if args.pg_version is not None and not 9 <= args.pg_version <= 99:
        raise ReviewError(
            f"--pg-version {args.pg_version} is not a PostgreSQL major version",
            stage="classify",
            hint="pass the major version only, e.g. --pg-version 15",
        )
    results = [check_file(Path(name), args) for name in args.files]
    if args.format == "json":
        json.dump([item for result in results for item in result], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        write_text(results, sys.stdout)
    failed = [item for result in results for item in result if item["trace_error"]]
    for item in failed:
        print(
            f"migration-review: {item['file']}:{item['line']}: the trace failed: the statement "
            f"failed on the scratch database: {item['trace_error']}",
            file=sys.stderr,
        )
    if failed:
        # Its verdict is static only, and what it did not run did not lock: not a clean pass.
        print(
            "  hint: the scratch database starts empty: create what the statement needs "
            "earlier in the file (or fix the statement), or drop --trace for static verdicts",
            file=sys.stderr,
        )
        return EXIT_ERROR
    fail_on = Risk(args.fail_on)
    worst = Risk.worst([Risk(item["risk"]) for result in results for item in result])
    return EXIT_FAIL if any(result for result in results) and worst >= fail_on else EXIT_PASS


def read_sql(path: Path) -> str:
    hint: str | None
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        message, hint = "no such file", "check the path"
    except IsADirectoryError:
        message = "is a directory, not a SQL file"
        hint = "pass the .sql files themselves (e.g. dir/*.sql)"
    except UnicodeDecodeError as exc:
        message = f"is not UTF-8 text ({exc.reason} at byte {exc.start})"
        hint = "save the file as UTF-8"
    except OSError as exc:
        message, hint = f"cannot be read: {exc.strerror}", None
    raise ReviewError(message, stage="classify", file=str(path), hint=hint)


def check_file(path: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The classified statements of one file, as JSON-ready dictionaries."""
    sql = read_sql(path)
    traces = None
    pg_version = args.pg_version
    if args.trace and statements(sql):
        from bot.collect import trace_script

        # Parse first: a file PostgreSQL cannot read is reported before anything runs.
        backend_for("postgresql", pg_version=pg_version or DEFAULT_PG_VERSION).check(sql, str(path))
        binaries = None
        if not args.database_url:
            binaries = choose_binaries(args.pg_bin, args.pg_version)
        traced = trace_script(
            sql,
            database_url=args.database_url,
            file=str(path),
            pg_bin=binaries.bin_dir if binaries else None,
            timeout=args.timeout,
        )
        traces = traced.statements
        if pg_version is None and traced.server_version_num:
            pg_version = traced.server_version_num // 10000
    backend = backend_for(
        args.dialect,
        pg_version=pg_version or DEFAULT_PG_VERSION,
        server_version=args.server_version,
    )
    reviews = classify_sql(sql, backend=backend, file=str(path), traces=traces)
    lines = [line for _, line in statements(sql)]
    return [_statement(path, line, review) for line, review in zip(lines, reviews, strict=True)]


def _verdict(verdict: Verdict) -> dict[str, Any]:
    return {
        "locks": [
            {"relation": lock.relation, "mode": lock.mode, "blocks": lock.blocks}
            for lock in verdict.locks
        ],
        "blocks": verdict.blocks,
        "rewrite": verdict.rewrite,
        "scan": verdict.scan,
        "risk": verdict.risk.value,
        "rules": verdict.rules,
        "notes": verdict.notes,
    }


def _statement(path: Path, line: int, review: StatementReview) -> dict[str, Any]:
    trace = review.trace
    return {
        "file": str(path),
        "line": line,
        "index": review.index,
        "sql": review.sql,
        "source": review.final.source,
        **_verdict(review.final),
        "static": _verdict(review.static),
        "traced": _verdict(review.traced) if review.traced else None,
        "trace_note": trace.note if trace else None,
        "trace_error": trace.error if trace else None,
        "disagreements": review.disagreements,
    }


def _locks_text(verdict: dict[str, Any]) -> str:
    if not verdict["locks"]:
        return "no lock on an existing table"
    return ", ".join(f"{lock['mode']} on {lock['relation']}" for lock in verdict["locks"])


def _blocks_text(verdict: dict[str, Any]) -> str:
    text = f"blocks {describe_blocks(verdict['blocks'])}"
    own = max((lock["blocks"] for lock in verdict["locks"]), key=BLOCKS_RANK.get, default="none")
    # MySQL's brief metadata lock blocks more than its statement does while it works.
    if BLOCKS_RANK[verdict["blocks"]] > BLOCKS_RANK[own]:
        text += ", through locks held since earlier statements"
    return text


def _work_text(verdict: dict[str, Any]) -> str:
    work = [name for name in ("rewrite", "scan") if verdict[name]]
    return f" · {' + '.join(work)}" if work else ""


def write_text(results: list[list[dict[str, Any]]], out: TextIO) -> None:
    """squawk-like: one block per statement that is not safe, then a summary."""
    counts = dict.fromkeys(reversed(list(Risk)), 0)
    for result in results:
        for item in result:
            counts[Risk(item["risk"])] += 1
            if item["risk"] == Risk.safe and not item["disagreements"]:
                continue
            first_line = item["sql"].splitlines()[0]
            out.write(f"{item['file']}:{item['line']}: {item['risk']}: {first_line}\n")
            source = "traced" if item["traced"] else "static"
            out.write(
                f"   {source}: {_locks_text(item)} ({_blocks_text(item)}){_work_text(item)}\n"
            )
            if item["traced"]:
                static = item["static"]
                out.write(f"   static: {_locks_text(static)}{_work_text(static)}\n")
            for rule in item["rules"]:
                out.write(f"   {rule}: {RULES[rule].title}\n")
            for note in item["notes"]:
                out.write(f"   note: {note}\n")
            for difference in item["disagreements"]:
                out.write(f"   disagreement: {difference}\n")
            out.write("\n")
    files = len(results)
    statements = sum(len(result) for result in results)
    summary = ", ".join(f"{count} {risk.value}" for risk, count in counts.items() if count)
    out.write(
        f"{files} file{'s' if files != 1 else ''}, {statements} statement"
        f"{'s' if statements != 1 else ''}{': ' + summary if summary else ''}\n"
    )
