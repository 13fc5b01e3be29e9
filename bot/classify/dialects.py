"""Reviewing migrations and SQL for MySQL/MariaDB and SQLite.

The review has the PostgreSQL review's shape (a static verdict per statement, the traced one
when the collector verified it, their disagreements, findings with safer Django code, the
migration's risk) from each backend's own reading: ``bot.classify.mysql`` (verified by the
collector's probe) and ``bot.classify.sqlite`` (static only: SQLite's one lock is the whole
database for the whole transaction, there is nothing more to observe).
"""

from __future__ import annotations

from bot.classify import mysql, sqlite
from bot.classify.findings import CHANGE_RULES, finding
from bot.classify.rules import RULES
from bot.classify.schema import Schema
from bot.classify.sql import pieces, words
from bot.classify.suggest import Context
from bot.errors import ReviewError
from bot.models import (
    CollectedMigration,
    CollectedStatement,
    Finding,
    MigrationReview,
    OperationInfo,
    Risk,
    StatementReview,
    Trace,
    Verdict,
)

BACKENDS = ("mysql", "sqlite")


class Reader:
    """One backend's analyzer and verdicts behind one interface."""

    def __init__(self, backend: str, server_version: str | None, schema: Schema | None) -> None:
        if backend not in BACKENDS:
            raise ReviewError(
                f"no classifier for the {backend!r} backend",
                stage="classify",
                hint="django-migration-review reads PostgreSQL, MySQL/MariaDB and SQLite",
            )
        self.backend = backend
        self.server = mysql.Server.parse(server_version) if backend == "mysql" else None
        self.analyzer: mysql.Analyzer | sqlite.Analyzer = (
            mysql.Analyzer(self.server, schema)
            if self.server is not None
            else sqlite.Analyzer(schema)
        )

    def review(
        self, index: int, sql: str, operation: OperationInfo | None, trace: Trace | None
    ) -> tuple[StatementReview, list[tuple[str, dict[str, str]]], bool]:
        """The statement's review, the rule hits of its final reading, and whether it takes a
        metadata lock on a table that existed before (for MR-MYSQL-NO-LOCK-WAIT-TIMEOUT)."""
        reading = self.analyzer.read(sql, operation)
        final_reading = reading
        static = self._verdict(reading, "static")
        traced, differences = None, []
        if self.server is not None and trace is not None and trace.method == "probe":
            assert isinstance(reading, mysql.Reading)
            final_reading = mysql.traced_reading(reading, trace, self.server)
            traced = self._verdict(final_reading, "traced")
            differences = mysql.disagreements(reading, final_reading)
        review = StatementReview(
            index=index,
            sql=sql,
            operation=operation.index if operation else None,
            static=static,
            traced=traced,
            final=traced or static,
            trace=trace,
            disagreements=differences,
        )
        locks_table = any(lock.mode == mysql.METADATA_LOCK for lock in review.final.locks)
        return review, final_reading.rule_hits(), locks_table

    def _verdict(self, reading: mysql.Reading | sqlite.Reading, source: str) -> Verdict:
        if isinstance(reading, mysql.Reading):
            return mysql.verdict(reading, source)
        return sqlite.verdict(reading, source)

    @property
    def lock_wait_timeout(self) -> bool:
        return isinstance(self.analyzer, mysql.Analyzer) and self.analyzer.lock_wait_timeout


def review_migration(
    m: CollectedMigration,
    *,
    backend: str,
    server_version: str | None,
    schema: Schema | None = None,
) -> MigrationReview:
    """Review one collected migration on MySQL/MariaDB or SQLite."""
    schema = schema if schema is not None else Schema()
    schema.start_unit()
    reader = Reader(backend, server_version, schema)
    operations = {op.index: op for op in m.operations}
    statements: list[StatementReview] = []
    findings: list[Finding] = []
    waiting: list[str] = []
    for statement in m.statements:
        op = operations.get(statement.operation) if statement.operation is not None else None
        review, hits, locks_table = reader.review(
            statement.index, statement.sql, op, statement.trace
        )
        review.operation = statement.operation
        statements.append(review)
        ctx = Context(migration=m, operation=op, sql=statement.sql, pg_version=0)
        findings += _statement_findings(review, hits, ctx, backend)
        if locks_table and not reader.lock_wait_timeout:
            waiting += [lock.relation for lock in review.final.locks]
    findings += _migration_findings(m, backend, sorted(set(waiting)))
    risk = Risk.worst([s.final.risk for s in statements] + [f.risk for f in findings])
    return MigrationReview(
        app_label=m.app_label,
        name=m.name,
        file=m.file,
        change=m.change,
        atomic=m.atomic,
        operations=m.operations,
        statements=statements,
        sqlmigrate=m.sqlmigrate,
        findings=findings,
        risk=risk,
        error=m.error,
    )


def statements(sql: str) -> list[tuple[str, int]]:
    """The statements of ``sql`` and the line each starts on; empty ones (``;``) left out."""
    return [(statement, line) for statement, line in pieces(sql) if words(statement)]


def statement_lines(sql: str) -> list[int]:
    return [line for _, line in statements(sql)]


def classify_sql(
    sql: str,
    *,
    backend: str,
    server_version: str | None,
    file: str | None = None,
    traces: list[CollectedStatement] | None = None,
) -> list[StatementReview]:
    """Classify raw MySQL or SQLite statement by statement, as ``check-sql --dialect`` does."""
    found = statements(sql)
    if traces is not None and [words(t.sql) for t in traces] != [words(s) for s, _ in found]:
        raise ReviewError(
            "the traced statements do not match the file's statements",
            stage="classify",
            file=file,
            hint="report this: the collector and the classifier split the SQL differently",
        )
    reader = Reader(backend, server_version, Schema())
    return [
        reader.review(index, statement, None, traces[index].trace if traces else None)[0]
        for index, (statement, _) in enumerate(found)
    ]


def _statement_findings(
    review: StatementReview, hits: list[tuple[str, dict[str, str]]], ctx: Context, backend: str
) -> list[Finding]:
    """One finding per rule of the final verdict; a lock rule's risk is the verdict's."""
    found: list[Finding] = []
    for rule_id in review.final.rules:
        for values in [v for r, v in hits if r == rule_id] or [{}]:
            hit = finding(rule_id, values, ctx, backend=backend, statement=review.index)
            if RULES[rule_id].family == "lock":
                hit.risk = review.final.risk
            if all(f.message != hit.message for f in found):
                found.append(hit)
    return found


def _migration_findings(m: CollectedMigration, backend: str, waiting: list[str]) -> list[Finding]:
    base = Context(migration=m, operation=None, sql="", pg_version=0)
    found: list[Finding] = []
    if m.change in CHANGE_RULES:
        found.append(finding(CHANGE_RULES[m.change], {"file": m.file}, base, backend=backend))
    schema_changes = bool(m.statements)
    for op in m.operations:
        ctx = Context(migration=m, operation=op, sql="", pg_version=0)
        code = op.code or op.describe
        if op.kind == "RunPython":
            # MySQL commits DDL at once: only SQLite keeps the schema changes' lock meanwhile.
            in_transaction = backend == "sqlite" and m.atomic and schema_changes
            where = (
                " in the same transaction as the migration's schema changes"
                if in_transaction
                else ""
            )
            values = {"code": code, "where": where, "kind": op.kind}
            found.append(finding("MR-DATA-MIGRATION", values, ctx, backend=backend))
        if op.kind in ("RunPython", "RunSQL") and not op.reversible:
            found.append(
                finding("MR-NO-REVERSE", {"kind": op.kind, "code": code}, ctx, backend=backend)
            )
    if waiting:
        tables = ", ".join(f"`{name}`" for name in waiting)
        found.append(
            finding("MR-MYSQL-NO-LOCK-WAIT-TIMEOUT", {"tables": tables}, base, backend=backend)
        )
    return found
