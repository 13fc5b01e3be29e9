"""What each statement really did on the scratch database, as PostgreSQL reports it.

A statement inside a transaction keeps its locks until COMMIT, so reading ``pg_locks`` for our
own backend right after it, in the same transaction, shows exactly what it took; reading right
before it tells those apart from locks an earlier statement still holds. The catalog tells the
rest: a new ``relfilenode`` is a rewrite, a new or newly validated ``pg_constraint`` row is a
check of every row, a changed ``attnotnull`` a NOT NULL change, and the per-transaction
sequential-scan counters say which tables were read in full.

Statements that refuse to run in a transaction (``CREATE INDEX CONCURRENTLY`` and friends) are
watched from a second session instead: it holds ROW EXCLUSIVE on the tables the statement names,
which such statements must wait out, and reads the statement's locks while it waits.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from . import db
from .cluster import is_tool_database
from .errors import CollectorError

RELKINDS = {
    "r": "table",
    "p": "table",
    "i": "index",
    "I": "index",
    "S": "sequence",
    "t": "toast",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "c": "composite type",
}
CONTYPES = {
    "c": "check",
    "f": "foreign_key",
    "p": "primary_key",
    "u": "unique",
    "t": "trigger",
    "x": "exclusion",
    "n": "not_null",
}
LOCK_MODES = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
]
# Statements PostgreSQL refuses to run inside a transaction block, read from their code only.
OWN_SESSION = re.compile(
    r"\bCONCURRENTLY\b|^\s*(VACUUM|ALTER\s+SYSTEM|(CREATE|DROP)\s+(DATABASE|TABLESPACE))\b",
    re.IGNORECASE,
)
# Where a comment, a string constant or a quoted identifier starts, as PostgreSQL's lexer reads
# them (standard_conforming_strings on): their text is not code.
NOT_CODE = re.compile(r"--|/\*|(?<![\w$])[Ee]'|'|\"|(?<![\w$])\$(?:[A-Za-z_]\w*)?\$")
QUOTED_END = {
    "'": re.compile(r"(?:[^']|'')*'"),
    '"': re.compile(r'(?:[^"]|"")*"'),
    "e'": re.compile(r"(?:[^'\\]|\\.|'')*'", re.DOTALL),
}
ACTIVE_SQL_TRANSACTION = "25001"
MANY_LOCKS = 2000
"""pg_locks costs time in proportion to every lock held: past this many, in a migration that
creates thousands of objects, a statement that names no pre-existing relation is not traced."""
CREATES = re.compile(r"^\s*CREATE\b", re.IGNORECASE)
IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][\w$]*)')
OBSERVE_SECONDS = 30.0
POLL_SECONDS = 0.005

# Catalogs, and TOAST tables: a TOAST table is only ever reached through its table's lock.
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
USER_RELATION = f"n.nspname NOT IN {SYSTEM_SCHEMAS!r}"
NAME = "CASE WHEN pg_table_is_visible(c.oid) THEN c.relname ELSE n.nspname || '.' || c.relname END"
LOCKS_SQL = f"""
SELECT l.relation::bigint, l.mode, l.granted, {NAME}, c.relkind, l.locktype, n.nspname
FROM pg_locks l
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = %s AND (l.locktype <> 'relation' AND NOT l.granted
      OR l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND (l.relation::bigint = ANY(%s::bigint[]) OR l.relation::bigint > %s))
"""
RELATIONS_SQL = f"""
SELECT c.oid::bigint, {NAME}, c.relkind, c.relfilenode::bigint
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_RELATION}
"""
SCANS_SQL = f"""
SELECT c.oid::bigint, pg_stat_get_xact_numscans(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND {USER_RELATION} AND c.oid::bigint = ANY(%s::bigint[])
"""
CONSTRAINTS_SQL = f"""
SELECT co.oid::bigint, co.conrelid::bigint, co.conname, {NAME}, co.contype, co.convalidated
FROM pg_constraint co
JOIN pg_class c ON c.oid = co.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE {USER_RELATION} AND (%s::bigint[] IS NULL OR co.conrelid::bigint = ANY(%s::bigint[]))
"""
NOT_NULL_SQL = f"""
SELECT a.attrelid::bigint, a.attnum, {NAME} || '.' || a.attname, a.attnotnull
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {USER_RELATION}
  AND (%s::bigint[] IS NULL OR a.attrelid::bigint = ANY(%s::bigint[]))
"""
# Each table's columns as a digest of (attnum, attnotnull): with the widest attnum read, what a
# reading compares against, so a statement re-reads a table's columns only when one changed.
COLUMNS_DIGEST = "md5(string_agg(a.attnum || ':' || a.attnotnull, ',' ORDER BY a.attnum){})"
DIGESTS_SQL = f"""
SELECT a.attrelid::bigint, max(a.attnum), {COLUMNS_DIGEST.format("")}
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {USER_RELATION}
GROUP BY a.attrelid
"""
# For tables (oid, widest attnum read before): the columns past it, then one row per table with
# the digest of the columns up to it (what the last reading digested, unless one changed), the
# widest attnum and the digest of all its columns now.
NEWER_COLUMNS_SQL = f"""
WITH known(oid, width) AS (SELECT * FROM unnest(%s::bigint[], %s::int[]))
SELECT a.attrelid::bigint, a.attnum, {NAME} || '.' || a.attname, a.attnotnull, NULL, NULL
FROM known k
JOIN pg_attribute a ON a.attrelid = k.oid AND a.attnum > k.width AND NOT a.attisdropped
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
UNION ALL
SELECT k.oid, max(a.attnum), NULL, NULL,
       {COLUMNS_DIGEST.format(" FILTER (WHERE a.attnum <= k.width)")}, {COLUMNS_DIGEST.format("")}
FROM known k
JOIN pg_attribute a ON a.attrelid = k.oid AND a.attnum > 0 AND NOT a.attisdropped
GROUP BY k.oid
"""
SETTINGS_SQL = "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
TABLES_NAMED_SQL = f"""
SELECT DISTINCT quote_ident(n.nspname) || '.' || quote_ident(t.relname)
FROM pg_class c
LEFT JOIN pg_index i ON i.indexrelid = c.oid
JOIN pg_class t ON t.oid = coalesce(i.indrelid, c.oid)
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE c.relname = ANY(%s) AND t.relkind IN ('r', 'p')
  AND {USER_RELATION}
"""
IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')


def needs_own_session(sql: str) -> bool:
    return bool(OWN_SESSION.search(code_of(sql)))


def code_of(sql: str) -> str:
    """``sql`` with every comment, string constant and quoted identifier made a space.

    A statement that says CONCURRENTLY in a comment or a string runs in a transaction all the
    same; the collector has no SQL parser of its own to ask (it runs in the project's Python).
    """
    parts: list[str] = []
    position = 0
    while start := NOT_CODE.search(sql, position):
        parts += [sql[position : start.start()], " "]
        position = _end_of(sql, start.group(), start.end())
    return "".join([*parts, sql[position:]])


def _end_of(sql: str, opener: str, position: int) -> int:
    """Where the comment, constant or identifier that ``opener`` starts at ``position`` ends."""
    if opener == "--":
        end = sql.find("\n", position)
    elif opener == "/*":  # block comments nest
        depth, end = 1, position
        while depth and end >= 0:
            end = min((i for i in (sql.find("/*", end), sql.find("*/", end)) if i >= 0), default=-1)
            if end >= 0:
                depth += 1 if sql.startswith("/*", end) else -1
                end += 2
    elif opener.startswith("$"):
        end = sql.find(opener, position)
        end = end + len(opener) if end >= 0 else -1
    else:
        match = QUOTED_END[opener.lower()].match(sql, position)
        end = match.end() if match else -1
    return len(sql) if end < 0 else end


@dataclass
class Relation:
    name: str
    kind: str
    filenode: int | None = None


@dataclass
class Reading:
    """One look at our backend: its relation locks (oid, mode) and the scan counters."""

    locks: dict[tuple[int, str], bool] = field(default_factory=dict)
    scans: dict[int, int] = field(default_factory=dict)


class Tracer:
    """Traces statements run on ``connection``, a raw DB-API connection to a tool-made database.

    ``url`` reaches the same database, for the second session; ``start_unit`` marks the start of
    what counts as "this migration": relations that exist then are pre-existing.
    """

    def __init__(self, connection: Any, url: str) -> None:
        if not is_tool_database(connection):
            raise CollectorError(
                "refusing to trace: the database was not created by this tool",
                hint="tracing only runs on the scratch databases the tool creates itself",
            )
        self.connection = connection
        self.observer = Observer(url)
        self.pid = self.query("SELECT pg_backend_pid()")[0][0]
        self.relations: dict[int, Relation] = {}
        # The statement that took each lock we hold; None when no statement did (introspection).
        self.first_seen: dict[tuple[int, str], int | None] = {}
        self.start_unit()

    def close(self) -> None:
        self.observer.close()

    def start_unit(self) -> None:
        """Snapshot the catalog: what exists now is pre-existing, what comes later is created."""
        self.relations = {
            oid: Relation(name, kind, filenode)
            for oid, name, kind, filenode in self.query(RELATIONS_SQL)
        }
        self.preexisting = set(self.relations)
        self.preexisting_oids = sorted(self.preexisting)
        # Relations created since are only read when new: a migration creating thousands of
        # tables must not read (or report) every one of them again at every statement.
        self.newest_oid = max(self.preexisting, default=0)
        self.preexisting_names = {
            self.relations[oid].name.rsplit(".", 1)[-1] for oid in self.preexisting
        }
        self.held_in_unit: set[tuple[int, str]] = set()
        self.constraints = self._constraints(None)
        self.not_null = self._not_null(None)
        self.column_digests = {
            oid: (width, digest) for oid, width, digest in self.query(DIGESTS_SQL)
        }

    def start_undo(self) -> None:
        """Start the rollback rehearsal of the unit just traced. What existed before that unit
        still is what pre-exists: the relations it created count as created, as the static
        reading of the reverse takes them, so a reverse that drops thousands of them does not
        read and report them all again at every statement."""
        self.held_in_unit = set()

    def trace(
        self, index: int | None, sql: str, run: Callable[[], int], *, in_transaction: bool
    ) -> dict[str, Any]:
        """Run ``sql`` through ``run`` (which returns the row count) and trace it.

        ``in_transaction`` says whether the session is inside a transaction already (an atomic
        migration); if not, the statement gets a transaction of its own, or a second session
        watches it when it cannot run in one.
        """
        many = len(self.held_in_unit) > MANY_LOCKS
        if in_transaction and many and not self.names_preexisting(sql):
            run()
            return static_only(
                f"not traced: the migration holds over {MANY_LOCKS} locks, and this statement "
                "creates objects and names no table that existed before it"
            )
        if in_transaction:
            return self._in_transaction(index, run)
        if needs_own_session(sql):
            return self.observer.watch(self, sql, run)
        self.query("BEGIN", fetch=False)
        try:
            trace = self._in_transaction(index, run)
        except Exception as exc:
            self.query("ROLLBACK", fetch=False)
            if db.sqlstate(exc) != ACTIVE_SQL_TRANSACTION:
                raise
            run()
            return static_only("PostgreSQL refused to run it inside a transaction")
        self.query("COMMIT", fetch=False)
        return trace

    def names_preexisting(self, sql: str) -> bool:
        """Whether ``sql`` may touch a pre-existing relation: it is not a CREATE, or it names
        one (a foreign key's target, a view's source, a sequence in a default)."""
        if not CREATES.match(sql):
            return True
        for quoted, bare in IDENTIFIER.findall(sql):
            name = quoted.replace('""', '"') if quoted else bare.lower()
            if name in self.preexisting_names:
                return True
        return False

    def read(self) -> Reading:
        """The session's locks on pre-existing relations and on relations newer than the last
        read, and the scan counters of the pre-existing tables."""
        reading = Reading(scans=dict(self.query(SCANS_SQL, (self.preexisting_oids,))))
        rows = self.query(LOCKS_SQL, (self.pid, self.preexisting_oids, self.newest_oid))
        for oid, mode, granted, name, kind, locktype, schema in rows:
            if locktype != "relation" or schema in SYSTEM_SCHEMAS:
                continue
            self.newest_oid = max(self.newest_oid, oid)
            if name is not None:
                self.relations.setdefault(oid, Relation(name, kind))
            elif oid not in self.relations:
                continue  # created and dropped again before we could name it
            reading.locks[(oid, mode)] = granted
        self.held_in_unit.update(reading.locks)
        return reading

    def _in_transaction(self, index: int | None, run: Callable[[], int]) -> dict[str, Any]:
        before = self.read()
        for key in before.locks:
            self.first_seen.setdefault(key, None)
        started = time.perf_counter()
        rows = run()
        duration = (time.perf_counter() - started) * 1000
        after = self.read()
        taken = [key for key in after.locks if key not in before.locks]
        for key in taken:
            self.first_seen[key] = index
        held = [key for key in after.locks if key in before.locks and key[0] in self.preexisting]
        locked = {oid for oid, _ in after.locks}
        lock_timeout, statement_timeout = self.query(SETTINGS_SQL)[0]
        return {
            "method": "transaction",
            "locks": self.describe_locks(taken, after.locks),
            "held": self.describe_locks(held, after.locks, since=True),
            "rewritten": self.rewritten(locked),
            "scanned": sorted(
                self.relations[oid].name
                for oid, count in after.scans.items()
                if oid in self.preexisting and count > before.scans.get(oid, 0)
            ),
            **self.catalog_changes(locked),
            "rows": rows if rows >= 0 else None,
            "queries": 1,
            "lock_timeout": lock_timeout,
            "statement_timeout": statement_timeout,
            "duration_ms": round(duration, 3),
        }

    def catalog_changes(self, oids: set[int]) -> dict[str, Any]:
        """Constraints added or validated, NOT NULL changed, on pre-existing tables in ``oids``.

        On a table created in this migration neither costs anything: nobody else sees it yet.
        """
        oids = oids & self.preexisting
        constraints = self._constraints(oids)
        added = [
            {"name": name, "table": table, "type": CONTYPES.get(kind, kind), "validated": valid}
            for oid, (name, table, kind, valid) in constraints.items()
            if oid not in self.constraints or (valid and not self.constraints[oid][3])
        ]
        self.constraints.update(constraints)
        not_null = self._columns_read(oids)
        changed = [
            f"{column}: {_nullability(self.not_null[key][1])} -> {_nullability(value)}"
            for key, (column, value) in not_null.items()
            if key in self.not_null and self.not_null[key][1] != value
        ]
        self.not_null.update(not_null)
        return {"constraints": added, "not_null_changed": changed}

    def _columns_read(self, oids: set[int]) -> dict[tuple[int, int], tuple[str, bool]]:
        """The columns of the tables in ``oids`` that are new since the last reading, and all
        of those whose columns' nullability changed since: a statement reads the columns a
        migration adds once, not again at every later statement on their table."""
        tables = sorted(oid for oid in oids if self.relations[oid].kind in ("r", "p"))
        if not tables:
            return {}
        widths = [self.column_digests.get(oid, (0, None))[0] for oid in tables]
        columns: dict[tuple[int, int], tuple[str, bool]] = {}
        changed = set()
        for oid, number, column, not_null, before, now in self.query(
            NEWER_COLUMNS_SQL, (tables, widths)
        ):
            if column is not None:
                columns[(oid, number)] = (column, not_null)
                continue
            if before != self.column_digests.get(oid, (0, None))[1]:
                changed.add(oid)
            self.column_digests[oid] = (number, now)
        return columns | self._not_null(changed)

    def rewritten(self, oids: set[int]) -> list[str]:
        if not oids & self.preexisting:
            return []
        rewritten = []
        for oid, _name, _kind, filenode in self.query(
            RELATIONS_SQL + " AND c.oid::bigint = ANY(%s::bigint[])", (sorted(oids),)
        ):
            relation = self.relations[oid]
            if oid in self.preexisting and relation.filenode not in (None, filenode):
                rewritten.append(relation.name)
            relation.filenode = filenode
        return sorted(rewritten)

    def describe_locks(
        self,
        keys: Iterable[tuple[int, str]],
        granted: dict[tuple[int, str], bool],
        *,
        since: bool = False,
    ) -> list[dict[str, Any]]:
        locks = [
            {
                "relation": self.relations[oid].name,
                "relkind": RELKINDS.get(self.relations[oid].kind, self.relations[oid].kind),
                "mode": mode,
                "granted": granted[(oid, mode)],
                "created": oid not in self.preexisting,
                "since_statement": self.first_seen.get((oid, mode)) if since else None,
            }
            for oid, mode in keys
        ]
        return sorted(locks, key=_lock_order)

    def _constraints(self, oids: set[int] | None) -> dict[int, tuple[str, str, str, bool]]:
        if oids is not None and not oids:
            return {}
        selected = None if oids is None else sorted(oids)
        rows = self.query(CONSTRAINTS_SQL, (selected, selected))
        return {oid: (name, table, kind, valid) for oid, _, name, table, kind, valid in rows}

    def _not_null(self, oids: set[int] | None) -> dict[tuple[int, int], tuple[str, bool]]:
        if oids is not None and not oids:
            return {}
        selected = None if oids is None else sorted(oids)
        rows = self.query(NOT_NULL_SQL, (selected, selected))
        return {(oid, number): (column, not_null) for oid, number, column, not_null in rows}

    def query(self, sql: str, params: tuple[Any, ...] = (), *, fetch: bool = True) -> list[Any]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql, params or None)
            return list(cursor.fetchall()) if fetch else []
        finally:
            cursor.close()


class Observer:
    """A second session on the scratch database that watches statements of another backend."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: Any = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def watch(self, tracer: Tracer, sql: str, run: Callable[[], int]) -> dict[str, Any]:
        """Run ``sql`` while holding what it must wait for, and read its locks meanwhile."""
        try:
            tables = self._hold_tables_named_in(sql)
        except Exception as exc:
            self.close()
            run()
            return static_only(f"the second session could not be set up: {exc}")
        seen: dict[tuple[int, str], bool] = {}
        state = {"waited": False, "error": None}
        done = threading.Event()
        watcher = threading.Thread(target=self._poll, args=(tracer, seen, state, done), daemon=True)
        started = time.perf_counter()
        watcher.start()
        try:
            rows = run()
        finally:
            done.set()
            watcher.join()
        duration = (time.perf_counter() - started) * 1000
        if state["error"] is not None and not seen:
            return static_only(f"the second session failed while watching: {state['error']}")
        if not seen:
            return static_only("the statement finished before a second session could see it")
        lock_timeout, statement_timeout = tracer.query(SETTINGS_SQL)[0]
        locked = {oid for oid, _ in seen}
        note = None
        if not state["waited"]:
            note = (
                "the statement did not wait for the second session"
                + (f" (it held no lock on {', '.join(tables)})" if tables else "")
                + ": the locks are those seen while polling and may be incomplete"
            )
        return {
            "method": "second-session",
            "locks": tracer.describe_locks(seen, seen),
            "rewritten": tracer.rewritten(locked),
            **tracer.catalog_changes(locked),
            "rows": rows if rows >= 0 else None,
            "queries": 1,
            "lock_timeout": lock_timeout,
            "statement_timeout": statement_timeout,
            "duration_ms": round(duration, 3),
            "note": note,
        }

    def _hold_tables_named_in(self, sql: str) -> list[str]:
        if self.connection is None:
            self.connection = db.connect(self.url, autocommit=False)
        names = sorted(
            {
                quoted.replace('""', '"') if quoted else bare.lower()
                for quoted, bare in IDENTIFIER.findall(sql)
            }
        )
        cursor = self.connection.cursor()
        cursor.execute("SET LOCAL lock_timeout = '5s'")
        cursor.execute(TABLES_NAMED_SQL, (names,))
        tables = sorted(row[0] for row in cursor.fetchall())
        if tables:
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN ROW EXCLUSIVE MODE")
        return tables

    def _poll(
        self,
        tracer: Tracer,
        seen: dict[tuple[int, str], bool],
        state: dict[str, Any],
        done: threading.Event,
    ) -> None:
        """Read the other backend's locks until it waits for us or ends, then let it go."""
        deadline = time.monotonic() + OBSERVE_SECONDS
        cursor = self.connection.cursor()
        try:
            while not done.is_set() and time.monotonic() < deadline:
                cursor.execute(LOCKS_SQL, (tracer.pid, tracer.preexisting_oids, 0))
                rows = cursor.fetchall()
                for oid, mode, granted, name, kind, locktype, schema in rows:
                    if locktype == "relation" and name is not None and schema not in SYSTEM_SCHEMAS:
                        tracer.relations.setdefault(oid, Relation(name, kind))
                        seen[(oid, mode)] = granted
                if any(not row[2] for row in rows):
                    state["waited"] = True
                    break
                time.sleep(POLL_SECONDS)
        except Exception as exc:
            state["error"] = exc
        finally:
            try:
                self.connection.rollback()
            except Exception:
                self.close()


def static_only(note: str) -> dict[str, Any]:
    return {"method": "static-only", "queries": 1, "note": note}


def failed(exc: BaseException) -> dict[str, Any]:
    """The trace of a statement the scratch database refused: its error, and no locks."""
    error = str(exc).strip() or type(exc).__name__
    return {**static_only(f"failed on the scratch database: {error}"), "error": error}


def merge(traces: list[dict[str, Any]]) -> dict[str, Any]:
    """One trace for many queries (a RunPython): every lock taken, rows and queries summed.

    What was held when the first query ran was held for all of them.
    """
    locks: dict[tuple[str, str], dict[str, Any]] = {}
    for trace in traces:
        for lock in trace.get("locks", []):
            locks.setdefault((lock["relation"], lock["mode"]), lock)
    rows = [trace["rows"] for trace in traces if trace.get("rows") is not None]
    methods = {trace["method"] for trace in traces}
    notes = sorted({trace["note"] for trace in traces if trace.get("note")})
    last = traces[-1] if traces else {}
    return {
        "method": "transaction" if methods <= {"transaction"} else "static-only",
        "locks": sorted(locks.values(), key=_lock_order),
        "held": traces[0].get("held", []) if traces else [],
        "rewritten": sorted({name for trace in traces for name in trace.get("rewritten", [])}),
        "scanned": sorted({name for trace in traces for name in trace.get("scanned", [])}),
        "constraints": [item for trace in traces for item in trace.get("constraints", [])],
        "not_null_changed": [
            item for trace in traces for item in trace.get("not_null_changed", [])
        ],
        "rows": sum(rows) if rows else None,
        "queries": len(traces),
        "lock_timeout": last.get("lock_timeout"),
        "statement_timeout": last.get("statement_timeout"),
        "duration_ms": round(sum(trace.get("duration_ms") or 0 for trace in traces), 3),
        "note": "; ".join(notes) or None,
    }


def _lock_order(lock: dict[str, Any]) -> tuple[str, int]:
    mode = lock["mode"]
    return lock["relation"], LOCK_MODES.index(mode) if mode in LOCK_MODES else len(LOCK_MODES)


def _nullability(not_null: bool) -> str:
    return "not null" if not_null else "null"
