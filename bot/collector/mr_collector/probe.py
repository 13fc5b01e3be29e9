"""What MySQL/MariaDB really does for each ALTER TABLE, asked of the server itself.

MySQL has no ``pg_locks`` to read while a statement runs, but it refuses an ALTER TABLE whose
``ALGORITHM`` or ``LOCK`` clause asks for less than the operation needs ("ALGORITHM=INSTANT is
not supported for this operation. Try ALGORITHM=INPLACE"), and a refused ALTER changes nothing.
So each statement is re-issued with the most efficient algorithm first (INSTANT, NOCOPY on
MariaDB, INPLACE, COPY) and, for each, the least restrictive lock first (NONE, SHARED,
EXCLUSIVE): the first combination the server accepts is what it does by default, and that
accepted statement *is* the real execution, after which the migration carries on.

``ALGORITHM=X`` means "X or better" to the server, so trying the best first makes the answer
exact. DROP INDEX takes no such clauses on MariaDB and is probed in its ALTER TABLE form.
Statements that are not ALTER TABLE, CREATE INDEX or DROP INDEX run unchanged, untraced.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from .errors import CollectorError
from .scratch import SCRATCH_PREFIX

IDENT = r"(?:`(?:[^`]|``)+`|[\w$]+)(?:\.(?:`(?:[^`]|``)+`|[\w$]+))?"
ALTER = re.compile(rf"^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(?P<table>{IDENT})", re.I)
CREATE_INDEX = re.compile(
    rf"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:ONLINE\s+)?(?:UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?"
    rf"INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?{IDENT}\s+(?:USING\s+\w+\s+)?ON\s+(?P<table>{IDENT})",
    re.I,
)
DROP_INDEX = re.compile(
    rf"^\s*DROP\s+INDEX\s+(?P<if>IF\s+EXISTS\s+)?(?P<index>{IDENT})\s+ON\s+(?P<table>{IDENT})"
    r"\s*;?\s*$",
    re.I,
)
EXPLICIT = re.compile(
    r"\b(?:ALGORITHM\s*=?\s*(?:DEFAULT|INSTANT|NOCOPY|INPLACE|COPY)|"
    r"LOCK\s*=?\s*(?:DEFAULT|NONE|SHARED|EXCLUSIVE))\b",
    re.I,
)
REFUSED = re.compile(r"\b(ALGORITHM|LOCK)=(\w+) is not supported", re.I)
LOCKS = ("NONE", "SHARED", "EXCLUSIVE")


def algorithms(mariadb: bool, version: tuple[int, ...]) -> tuple[str, ...]:
    """The algorithms the server knows, most efficient first."""
    if mariadb and version >= (10, 3, 7):
        return ("INSTANT", "NOCOPY", "INPLACE", "COPY")
    if not mariadb and version >= (8, 0, 12):
        return ("INSTANT", "INPLACE", "COPY")
    return ("INPLACE", "COPY")


def unquote(name: str) -> str:
    last = re.findall(r"`((?:[^`]|``)+)`|([\w$]+)", name)[-1]
    return (last[0] or last[1]).replace("``", "`")


class Form:
    """How to ask for an algorithm and a lock in one statement."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.body = sql.strip().rstrip(";").rstrip()
        self.table: str | None = None
        self.kind = ""
        self.match: re.Match[str] | None = None
        self.explicit = bool(EXPLICIT.search(self.body))
        for kind, pattern in (("alter", ALTER), ("create", CREATE_INDEX), ("drop", DROP_INDEX)):
            match = pattern.match(self.body)
            if match:
                self.kind, self.table, self.match = kind, unquote(match["table"]), match
                break

    def asking(self, algorithm: str, lock: str | None) -> str:
        clauses = [f"ALGORITHM={algorithm}"] + ([f"LOCK={lock}"] if lock else [])
        if self.kind == "create":
            return f"{self.body} {' '.join(clauses)}"
        if self.kind == "drop" and self.match is not None:
            exists = "IF EXISTS " if self.match["if"] else ""
            return (
                f"ALTER TABLE {self.match['table']} DROP INDEX {exists}{self.match['index']}, "
                + ", ".join(clauses)
            )
        return ", ".join([self.body, *clauses])


class Prober:
    """Probes the statements run on ``connection`` (DB-API) in the scratch database ``name``.

    Has the tracer's interface (``trace``, ``start_unit``, ``close``), so the collector applies
    a migration the same way on every backend.
    """

    def __init__(
        self, connection: Any, name: str, *, mariadb: bool, version: tuple[int, ...]
    ) -> None:
        self.connection = connection
        current = self.query("SELECT DATABASE()")[0][0]
        if current != name or not name.startswith(SCRATCH_PREFIX):
            raise CollectorError(
                "refusing to probe: the database was not created by this tool",
                hint="probing only runs on the scratch databases the tool creates itself",
            )
        self.algorithms = algorithms(mariadb, version)
        self.preexisting: set[str] = set()
        self.start_unit()

    def close(self) -> None:
        """Nothing to release: the probe holds no session of its own."""

    def start_unit(self) -> None:
        """Tables that exist now are pre-existing for the statements that follow."""
        self.preexisting = {row[0] for row in self.query("SHOW TABLES")}

    def start_undo(self) -> None:
        """The rollback rehearsal of the last unit: its tables, made by then, are probed too."""
        self.start_unit()

    def trace(
        self, index: int | None, sql: str, run: Callable[..., int], *, in_transaction: bool
    ) -> dict[str, Any]:
        """Run ``sql`` through ``run`` (which returns the row count), probing it if it can.

        ``in_transaction`` is part of the tracer's interface; MySQL commits DDL at once anyway.
        """
        form = Form(sql)
        started = time.perf_counter()
        if form.table is None:
            rows = run()
            return _untraced("not an ALTER TABLE or index statement: ran without probing", rows)
        if form.explicit:
            rows = run()
            return _untraced("the statement names its own ALGORITHM or LOCK: ran as written", rows)
        refused: list[str] = []
        for algorithm in self.algorithms:
            for lock in (None,) if algorithm == "INSTANT" else LOCKS:
                try:
                    rows = run(form.asking(algorithm, lock))
                except Exception as exc:
                    message = _message(exc)
                    match = REFUSED.search(message)
                    if match is None:
                        # Not a refusal (a syntax the server takes no clause in, a row too wide
                        # for INSTANT, bad data): the statement as written decides, and fails
                        # the migration only if it fails too.
                        rows = run()
                        return _untraced(f"probing failed ({message}): ran as written", rows)
                    refused.append(f"{match[1].upper()}={match[2].upper()}")
                    if match[1].upper() == "ALGORITHM":
                        break
                    continue
                return self._accepted(form, algorithm, lock, refused, rows, started)
        raise CollectorError(f"the server refused every ALGORITHM and LOCK for: {sql}")

    def _accepted(
        self,
        form: Form,
        algorithm: str,
        lock: str | None,
        refused: list[str],
        rows: int,
        started: float,
    ) -> dict[str, Any]:
        assert form.table is not None
        created = form.table not in self.preexisting
        locks = [{"relation": form.table, "relkind": "table", "mode": lock, "created": created}]
        notes = [f"refused {', '.join(dict.fromkeys(refused))}"] if refused else []
        if form.kind == "drop":
            notes.append("probed as ALTER TABLE ... DROP INDEX")
        return {
            "method": "probe",
            "algorithm": algorithm,
            "locks": locks if lock else [],
            "rows": rows if rows >= 0 else None,
            "queries": len(refused) + 1,
            "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            "note": "; ".join(notes) or None,
        }

    def query(self, sql: str) -> list[Any]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()


def _message(exc: BaseException) -> str:
    """The server's error message, also through Django's wrapped exceptions."""
    args = exc.args
    return str(args[1]) if len(args) >= 2 and isinstance(args[0], int) else str(exc)


def _untraced(note: str, rows: int) -> dict[str, Any]:
    return {
        "method": "static-only",
        "queries": 1,
        "rows": rows if rows >= 0 else None,
        "note": note,
    }
