"""Reviewing a migration, or raw SQL: one algorithm for every backend.

Each statement is read by the backend's analyzer (``bot.classify.backend``): a static view, the
traced one when the collector ran it, and where the two disagree. Each view becomes a verdict
by the one rule of ``risk.verdict``; the final verdict's rules become findings with the
backend's safer code; then come the rules about the migration as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.classify import findings as fs
from bot.classify import locks
from bot.classify.advice import Context
from bot.classify.backend import Analyzer, Backend
from bot.classify.mysql import MySQL
from bot.classify.postgresql import DEFAULT_VERSION, PostgreSQL
from bot.classify.risk import Reading, verdict
from bot.classify.rules import RULES
from bot.classify.schema import Schema
from bot.classify.sql import short, statements, words
from bot.classify.sqlite import SQLite
from bot.errors import ReviewError
from bot.models import (
    CollectedMigration,
    CollectedStatement,
    Finding,
    Lock,
    MigrationReview,
    OperationInfo,
    Risk,
    RollbackReview,
    StatementReview,
    Trace,
)

BACKENDS = ("postgresql", "mysql", "sqlite")
"""The names ``backend_for`` knows: Django's ``connection.vendor``."""


def backend_for(
    name: str, *, pg_version: int = DEFAULT_VERSION, server_version: str | None = None
) -> Backend:
    """The backend a project's (or a SQL file's) statements are reviewed for.

    ``pg_version`` is the PostgreSQL major version the rules follow; ``server_version`` the
    MySQL/MariaDB server's version string ("10.11.6-MariaDB"; MySQL 8.4 when not given).
    """
    if name == "postgresql":
        return PostgreSQL(pg_version)
    if name == "mysql":
        return MySQL(server_version)
    if name == "sqlite":
        return SQLite()
    raise ReviewError(
        f"no classifier for the {name!r} backend",
        stage="classify",
        hint="django-migration-review reads PostgreSQL, MySQL/MariaDB and SQLite",
    )


@dataclass
class _Reviewed:
    review: StatementReview
    reading: Reading
    operation: OperationInfo | None


def _review(
    analyzer: Analyzer,
    sql: str,
    *,
    index: int,
    operation: OperationInfo | None,
    trace: Trace | None,
) -> _Reviewed:
    """Both verdicts of one statement, the final one, and where they disagree."""
    reading = analyzer.read(sql, operation, trace)
    static = verdict("static", reading.static)
    traced = verdict("traced", reading.traced) if reading.traced is not None else None
    review = StatementReview(
        index=index,
        sql=sql,
        operation=operation.index if operation else None,
        static=static,
        traced=traced,
        final=traced or static,
        trace=trace,
        disagreements=reading.disagreements,
    )
    return _Reviewed(review, reading, operation)


def classify_sql(
    sql: str,
    *,
    backend: Backend,
    schema: Schema | None = None,
    file: str | None = None,
    traces: list[CollectedStatement] | None = None,
) -> list[StatementReview]:
    """Classify raw SQL statement by statement, as ``check-sql`` does.

    Statements run as a SQL client runs a file: each commits on its own outside a BEGIN block,
    so a relation is new only to the statements of the transaction that created it. ``schema``
    describes what exists already; ``traces`` are ``bot.collect.trace_script``'s statements for the
    same text, whose traced verdicts then win. SQL the backend cannot read is an input error
    naming the file and line.
    """
    backend.check(sql, file)
    found = statements(sql)
    if traces is not None and [words(t.sql) for t in traces] != [words(s) for s, _ in found]:
        raise ReviewError(
            "the traced statements do not match the file's statements",
            stage="classify",
            file=file,
            hint="report this: the collector and the classifier split the SQL differently",
        )
    analyzer = backend.analyzer(schema if schema is not None else Schema(), None)
    return [
        _review(
            analyzer,
            statement,
            index=index,
            operation=None,
            trace=traces[index].trace if traces is not None else None,
        ).review
        for index, (statement, _) in enumerate(found)
    ]


def review_migration(
    m: CollectedMigration, *, backend: Backend, schema: Schema | None = None
) -> MigrationReview:
    """Review one collected migration.

    ``schema`` carries what earlier migrations of the same review created or changed; its
    relations count as pre-existing here.
    """
    schema = schema if schema is not None else Schema()
    schema.start_unit()
    analyzer = backend.analyzer(schema, m)
    operations = {op.index: op for op in m.operations}
    reviewed: list[_Reviewed] = []
    unrendered: list[_Reviewed] = []
    found: list[Finding] = []
    holders = _Holders()
    # An operation's findings given what is held once the statements before the next one ran:
    # read there, so no copy of the held locks is kept per operation.
    upcoming = iter(m.operations)
    pending = next(upcoming, None)
    by_operation: dict[int, list[Finding]] = {}
    executed_only = iter([op for op in m.operations if op.executed_only])
    unrendered_next = next(executed_only, None)
    for statement in m.statements:
        op = operations.get(statement.operation) if statement.operation is not None else None
        while unrendered_next is not None and op is not None and unrendered_next.index < op.index:
            found += _review_unrendered(analyzer, backend, m, unrendered_next, holders, unrendered)
            unrendered_next = next(executed_only, None)
        while pending is not None and op is not None and pending.index < op.index:
            by_operation[pending.index] = _held_findings(m, pending, backend, analyzer)
            pending = next(upcoming, None)
        item = _review(
            analyzer, statement.sql, index=statement.index, operation=op, trace=statement.trace
        )
        item.review.operation = statement.operation
        holders.name(item, printed=True)
        ctx = Context(migration=m, operation=op, sql=statement.sql)
        own = fs.statement_findings(item.review, item.reading.final, ctx, backend)
        if statement.executed_sql:  # a callable default, drawn once for every NULL row
            fs.one_value_for_every_row(item.review, own)
        found += own
        holders.seen(own)
        reviewed.append(item)
        holders.rendered(item)
    while unrendered_next is not None:
        found += _review_unrendered(analyzer, backend, m, unrendered_next, holders, unrendered)
        unrendered_next = next(executed_only, None)
    while pending is not None:
        by_operation[pending.index] = _held_findings(m, pending, backend, analyzer)
        pending = next(upcoming, None)
    readings = [r.reading for r in reviewed + unrendered]
    found += _migration_findings(m, backend, readings, by_operation, schema)
    printed = [r.review for r in reviewed]
    extra = [r.review for r in unrendered]
    risk = Risk.worst([s.final.risk for s in printed + extra] + [f.risk for f in found])
    return MigrationReview.of(
        m,
        statements=printed,
        unrendered=extra,
        findings=found,
        risk=risk,
        rollback=_rollback(m, backend, schema),
    )


def _rollback(m: CollectedMigration, backend: Backend, schema: Schema) -> RollbackReview | None:
    """The reverse's statements, read by an analyzer of their own (they run only if the
    migration is rolled back): their locks are shown, their risk is not the migration's."""
    if m.rollback is None:
        return None
    analyzer = backend.analyzer(schema.copy(), m)
    operations = {op.index: op for op in m.operations}
    statements = [
        _review(
            analyzer,
            s.sql,
            index=s.index,
            operation=operations.get(s.operation) if s.operation is not None else None,
            trace=s.trace,
        ).review
        for s in m.rollback.statements
    ]
    return RollbackReview(
        statements=statements,
        error=m.rollback.error,
        reapply_error=m.rollback.reapply_error,
        skipped=m.rollback.skipped,
    )


class _Holders:
    """What the statements reviewed so far tell later ones, kept as they go so that no statement
    looks back over all the earlier ones.

    A hit about a lock held from earlier (``held_table``) names the operation that took it: the
    first earlier statement with a blocking lock on that table; for a statement only ``migrate``
    ran, a printed one before another of those. ``known`` are the findings so far, by rule and
    message.
    """

    def __init__(self) -> None:
        self.printed: dict[str, str] = {}
        self.unprinted: dict[str, str] = {}
        self.known: set[tuple[str, str]] = set()

    def name(self, item: _Reviewed, *, printed: bool) -> None:
        for hit in item.reading.final.hits:
            table = hit.values.get("held_table")
            if table is None:
                continue
            holder = self.printed.get(table) or (None if printed else self.unprinted.get(table))
            if holder is not None:
                hit.values["held_by"] = holder

    def rendered(self, item: _Reviewed) -> None:
        self._took(item, self.printed)

    def unrendered(self, item: _Reviewed) -> None:
        self._took(item, self.unprinted)

    def seen(self, found: list[Finding]) -> None:
        self.known.update((f.rule, f.message) for f in found)

    @staticmethod
    def _took(item: _Reviewed, into: dict[str, str]) -> None:
        if item.operation is None:
            return
        for lock in item.reading.final.locks:
            if lock.blocks != "none":
                into.setdefault(lock.relation, item.operation.describe)


def _held_findings(
    m: CollectedMigration, op: OperationInfo, backend: Backend, analyzer: Analyzer
) -> list[Finding]:
    """The backend's findings about ``op`` given the locks held when it runs."""
    return backend.operation_findings(Context(migration=m, operation=op, sql=""), analyzer.held)


def _review_unrendered(
    analyzer: Analyzer,
    backend: Backend,
    m: CollectedMigration,
    op: OperationInfo,
    holders: _Holders,
    unrendered: list[_Reviewed],
) -> list[Finding]:
    """Review what applying ``op`` ran beyond what sqlmigrate prints, appending to ``unrendered``.

    These statements ran after the operation's printed ones, in the same transaction: they go
    through the same analyzer and risk rule as any statement. Their findings count like any
    other (those already found on a printed statement once), plus one MR-UNRENDERED-SQL saying
    what a reader of sqlmigrate's output does not see.
    """
    found: list[Finding] = []
    items: list[_Reviewed] = []
    for trace in op.executed_only:
        sql = trace.executed_sql
        if not sql:
            continue
        item = _review(analyzer, sql, index=len(unrendered), operation=op, trace=trace)
        holders.name(item, printed=False)
        ctx = Context(migration=m, operation=op, sql=sql)
        for hit in fs.statement_findings(item.review, item.reading.final, ctx, backend):
            hit.statement = None  # an index into the printed statements, which it is not
            if (hit.rule, hit.message) not in holders.known:
                holders.seen([hit])
                found.append(hit)
        unrendered.append(item)
        holders.unrendered(item)
        items.append(item)
    if items:
        finding = _unrendered_finding(m, op, items, backend)
        holders.seen([finding])
        found.append(finding)
    return found


def _unrendered_finding(
    m: CollectedMigration, op: OperationInfo, items: list[_Reviewed], backend: Backend
) -> Finding:
    blocking: dict[str, Lock] = {}
    for item in items:
        for lock in item.reading.final.locks:
            current = blocking.get(lock.relation)
            if lock.blocks != "none" and (
                current is None or locks.level(lock.mode) > locks.level(current.mode)
            ):
                blocking[lock.relation] = lock
    if blocking:
        taken = "They take " + ", ".join(
            f"{locks.SQL_NAMES.get(lock.mode, lock.mode)} on `{name}` (blocks "
            f"{'reads and writes' if lock.blocks == 'reads' else 'writes'})"
            for name, lock in sorted(blocking.items())
        )
    else:
        taken = "They take no lock that blocks traffic on an existing table"
    rule = RULES["MR-UNRENDERED-SQL"]
    values = {
        "operation": op.describe,
        "count": str(len(items)),
        "statements": "; ".join(f"`{_gist(i.review.sql)}`" for i in items),
        "locks": taken + ".",
    }
    ctx = Context(migration=m, operation=op, sql="")
    risk = Risk.worst([rule.risk, *(i.review.final.risk for i in items)])
    return fs.finding(rule.id, values, ctx, backend, risk=risk)


def _gist(sql: str) -> str:
    """The statement that matters in Django's "SET CONSTRAINTS ... IMMEDIATE; ALTER TABLE ..."."""
    found = statements(sql)
    return short(found[-1][0] if found else sql, 100)


def _migration_findings(
    m: CollectedMigration,
    backend: Backend,
    readings: list[Reading],
    by_operation: dict[int, list[Finding]],
    schema: Schema,
) -> list[Finding]:
    found = fs.change_findings(m, backend)
    with_schema_changes = backend.runs_with_schema_changes(m, readings)
    for op in m.operations:
        ctx = Context(migration=m, operation=op, sql="")
        data, reverse = fs.operation_findings(ctx, backend, with_schema_changes=with_schema_changes)
        found += data + by_operation[op.index] + reverse
        found += fs.not_null_findings(ctx, schema, backend)
    base = Context(migration=m, operation=None, sql="")
    found += backend.migration_findings(base, readings)
    found += fs.lock_timeout_findings(base, readings, backend)
    return found + fs.rollback_findings(m, backend, found)
