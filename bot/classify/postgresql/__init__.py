"""PostgreSQL: statements read by its own parser (pglast), verified by tracing ``pg_locks``.

``analyzer`` walks each statement as the server decides its locks, ``traced`` turns a trace into
the same effect, ``work`` names the kind of work, ``advice`` writes the safer Django code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.classify import findings
from bot.classify.advice import Context, operation_name
from bot.classify.backend import Backend
from bot.classify.postgresql import traced
from bot.classify.postgresql.advice import advice
from bot.classify.postgresql.analyzer import Analyzer, held_values
from bot.classify.postgresql.recipes import RECIPES
from bot.classify.risk import Effect, Reading, assess
from bot.classify.schema import Schema
from bot.classify.sql import short, split
from bot.errors import ReviewError
from bot.models import CollectedMigration, Finding, Trace

DEFAULT_VERSION = 17
"""What the rules assume when neither the user nor a server says otherwise."""


class PostgreSQL(Backend):
    name = "postgresql"
    lock_timeout_rule = "MR-NO-LOCK-TIMEOUT"
    recipes = RECIPES

    def __init__(self, pg_version: int) -> None:
        self.pg_version = pg_version
        self.advice = advice(pg_version)

    def analyzer(self, schema: Schema, migration: CollectedMigration | None) -> Analyzer:
        """A migration is one transaction when atomic, and everything it creates is new."""
        if migration is None:
            return Analyzer(pg_version=self.pg_version, schema=schema)
        return Analyzer(
            pg_version=self.pg_version,
            schema=schema,
            in_transaction=migration.atomic,
            migration=True,
        )

    def check(self, sql: str, file: str | None) -> None:
        """Every statement must parse: check-sql reads PostgreSQL's own syntax."""
        for item in split(sql):
            if item.error:
                raise ReviewError(
                    f"the statement at line {item.line} does not parse: {item.error} "
                    f"(line {item.error_line}): {short(item.sql, 60)}",
                    stage="classify",
                    file=f"{file}:{item.error_line}" if file else None,
                    hint="fix the SQL; check-sql reads PostgreSQL syntax, statements ending in ';'",
                )

    def runs_with_schema_changes(self, m: CollectedMigration, readings: Sequence[Reading]) -> bool:
        return m.atomic and any(r.ddl for r in readings)

    def operation_findings(self, ctx: Context, held: Mapping[str, str]) -> list[Finding]:
        """A RunPython that changes rows under a lock an earlier operation still holds."""
        op = ctx.operation
        if op is None or op.kind != "RunPython":
            return []
        effect = _run_python_effect(op.trace, dict(held))
        if not effect.slowed_by_held_lock:
            return []
        values = {**held_values(effect), "subject": f"The operation `{operation_name(op)}`"}
        return [findings.finding("MR-WORK-UNDER-HELD-LOCK", values, ctx, self, risk=assess(effect))]

    def migration_findings(self, ctx: Context, readings: Sequence[Reading]) -> list[Finding]:
        """A non-atomic migration whose schema changes could each commit or fail alone."""
        if ctx.migration.atomic:
            return []
        transactional = [r for r in readings if r.ddl and not r.no_transaction]
        if not transactional:
            return []
        values = {"count": str(len(transactional))}
        return [findings.finding("MR-NONATOMIC-DDL", values, ctx, self)]


def _run_python_effect(trace: Trace | None, held: dict[str, str]) -> Effect:
    """A RunPython operation changes rows; the trace says which locks it took and found held."""
    if trace is None or trace.method == "static-only":
        return Effect(held=held, dml=True)
    seen = traced.TracedLocks.of(trace)
    return Effect(
        locks=seen.strongest(seen.taken), held=seen.strongest(seen.held) or held, dml=True
    )
