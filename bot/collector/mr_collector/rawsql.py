"""``check-sql --trace``: run raw SQL statement by statement on a scratch database, traced.

The statements run as psql would run the file: each in a transaction of its own unless the file
opens one with BEGIN, and statements that cannot run in a transaction watched from a second
session. A failing statement does not stop the others (psql does not stop either); it carries
the error in its trace note, and the rest of an explicit transaction it aborted is not run.
"""

from __future__ import annotations

import re
from typing import Any

from . import db, trace
from .cluster import connection_server_version, scratch

COMMENTS = re.compile(r"^\s*(?:(?:--[^\n]*\n?)|(?:/\*.*?\*/))*\s*", re.DOTALL)


def transaction_control(sql: str) -> str | None:
    """Whether ``sql`` opens ("begin") or closes ("end") a transaction block; None if neither."""
    words = COMMENTS.sub("", sql, count=1).split(None, 2)
    first = words[0].upper().rstrip(";") if words else ""
    second = words[1].upper().rstrip(";") if len(words) > 1 else ""
    if first == "BEGIN" or (first == "START" and second == "TRANSACTION"):
        return "begin"
    if first in ("COMMIT", "END", "ABORT") or (first == "ROLLBACK" and second != "TO"):
        return "end"
    return None


def trace_statements(request: dict[str, Any], output: dict[str, Any]) -> None:
    with scratch(request.get("database_url"), request.get("pg_bin")) as (url, where):
        output["database"] = where
        connection = db.connect(url)
        tracer = None
        try:
            output["server_version_num"] = connection_server_version(connection)
            tracer = trace.Tracer(connection, url)
            output["statements"] = run_script(connection, tracer, list(request["statements"]))
        finally:
            if tracer is not None:
                tracer.close()
            connection.close()


def run_script(connection: Any, tracer: trace.Tracer, statements: list[str]) -> list[dict]:
    results = []
    in_block = False
    aborted_by: int | None = None
    for index, sql in enumerate(statements):
        control = transaction_control(sql)
        cursor = connection.cursor()

        def run(sql: str = sql, cursor: Any = cursor) -> int:
            cursor.execute(sql)
            return int(cursor.rowcount)

        if control is not None:
            run()
            traced = {"method": "transaction", "queries": 1, "note": "transaction control"}
            in_block, aborted_by = control == "begin", None
            if in_block:
                tracer.start_unit()
        elif aborted_by is not None:
            traced = trace.static_only(
                f"not run: statement {aborted_by} aborted the transaction it is in"
            )
        else:
            if not in_block:
                tracer.start_unit()
            try:
                traced = tracer.trace(index, sql, run, in_transaction=in_block)
            except Exception as exc:
                traced = trace.failed(exc)
                aborted_by = index if in_block else None
        results.append({"index": index, "sql": sql, "operation": None, "trace": traced})
    if in_block:
        connection.cursor().execute("ROLLBACK")
    return results
