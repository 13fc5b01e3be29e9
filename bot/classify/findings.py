"""Findings: one builder for every backend, the advice dispatch, and the migration-level rules
that do not depend on the backend.

A finding reads the same whichever backend raised it: the rule's message and why, filled with
the hit's names, and the backend's safer code (``advice.safer``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.classify.advice import Context, operation_name, safer
from bot.classify.backend import Backend
from bot.classify.risk import Reading, View
from bot.classify.rules import RULES, fill
from bot.classify.schema import Schema
from bot.models import ChangeKind, CollectedMigration, Finding, Risk, StatementReview

CHANGE_RULES = {
    ChangeKind.modified: "MR-MIGRATION-MODIFIED",
    ChangeKind.deleted: "MR-MIGRATION-DELETED",
    ChangeKind.renamed: "MR-MIGRATION-RENAMED",
}
"""The rule a migration file's change raises, when the change itself is the finding."""


def finding(
    rule_id: str,
    values: dict[str, str],
    ctx: Context,
    backend: Backend,
    *,
    risk: Risk | None = None,
    statement: int | None = None,
) -> Finding:
    """``risk`` defaults to the rule's own; a lock rule passes its statement's."""
    rule = RULES[rule_id]
    return Finding(
        rule=rule.id,
        risk=rule.risk if risk is None else risk,
        title=rule.title,
        message=f"{fill(rule.message, values)} {fill(rule.why, values)}",
        safer=safer(rule.id, ctx, values, backend.advice),
        migration=f"{ctx.migration.app_label}.{ctx.migration.name}",
        statement=statement,
        operation=ctx.operation.index if ctx.operation else None,
        file=ctx.migration.file,
    )


def statement_findings(
    review: StatementReview, view: View, ctx: Context, backend: Backend
) -> list[Finding]:
    """One finding per rule of the final verdict and distinct hit; a lock rule's risk is the
    one of the locks."""
    found: list[Finding] = []
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for rule_id in review.final.rules:
        for hit in [h for h in view.hits if h.rule == rule_id]:
            key = (rule_id, tuple(sorted(hit.values.items())))
            if key in seen:
                continue
            seen.add(key)
            risk = view.locks_risk if RULES[rule_id].family == "lock" else None
            found.append(
                finding(rule_id, hit.values, ctx, backend, risk=risk, statement=review.index)
            )
    return found


def change_findings(m: CollectedMigration, backend: Backend) -> list[Finding]:
    """A migration file modified, deleted or renamed after others may have applied it."""
    if m.change not in CHANGE_RULES:
        return []
    ctx = Context(migration=m, operation=None, sql="")
    values = {"file": m.file, "old_file": m.old_file or ""}
    return [finding(CHANGE_RULES[m.change], values, ctx, backend)]


def operation_findings(
    ctx: Context, backend: Backend, *, with_schema_changes: bool
) -> tuple[list[Finding], list[Finding]]:
    """The rules about RunPython and RunSQL: the data migration and its reverse, each a list,
    so that the backend's own findings about the operation can go between them."""
    op = ctx.operation
    if op is None:
        return [], []
    code = op.code or op.describe
    data: list[Finding] = []
    if op.kind == "RunPython":
        where = " in the same transaction as the migration's schema changes"
        values = {"code": code, "where": where if with_schema_changes else "", "kind": op.kind}
        data.append(finding("MR-DATA-MIGRATION", values, ctx, backend))
    reverse: list[Finding] = []
    if op.kind in ("RunPython", "RunSQL") and not op.reversible:
        values = {"kind": op.kind, "code": code}
        reverse.append(finding("MR-NO-REVERSE", values, ctx, backend))
    return data, reverse


def lock_timeout_findings(
    ctx: Context, readings: Sequence[Reading], backend: Backend
) -> list[Finding]:
    """Blocking locks taken without a lock timeout: behind a long transaction they queue all
    traffic on the table."""
    blocking = sorted(
        {
            lock.relation
            for r in readings
            if not r.lock_timeout
            for lock in r.final.locks
            if lock.blocks != "none"
        }
    )
    if not blocking or backend.lock_timeout_rule is None:
        return []
    tables = ", ".join(f"`{name}`" for name in blocking)
    return [finding(backend.lock_timeout_rule, {"tables": tables}, ctx, backend)]


ADDED_NOT_NULL = re.compile(
    r"ADD (?:COLUMN )?\S+ .*? DEFAULT (.+?) NOT NULL", re.IGNORECASE | re.DOTALL
)
DROPS_DEFAULT = re.compile(r"\bDROP DEFAULT\b", re.IGNORECASE)


def not_null_findings(ctx: Context, schema: Schema, backend: Backend) -> list[Finding]:
    """An AddField to a table the release still serving uses, NOT NULL with a default Django
    drops again at once: that release's INSERTs leave the column out and fail."""
    op = ctx.operation
    if op is None or op.kind != "AddField" or op.field is None or not op.table:
        return []
    field = op.field
    if field.null or field.db_default or field.primary_key or schema.made_in_review(op.table):
        return []
    sql = ctx.statements_of_operation()
    added = next((m for m in map(ADDED_NOT_NULL.search, sql) if m), None)
    if added is None or not any(DROPS_DEFAULT.search(s) for s in sql):
        return []
    values = {
        "operation": op.describe,
        "table": op.table,
        "column": op.field_name or "",
        "default": added.group(1),
    }
    return [finding("MR-NOT-NULL-WITHOUT-DB-DEFAULT", values, ctx, backend)]


IRREVERSIBLE = "IrreversibleError"


def rollback_findings(
    m: CollectedMigration, backend: Backend, found: list[Finding]
) -> list[Finding]:
    """The rollback rehearsal failed: the reverse raised (or an operation has none), or the
    migration did not apply again after it. The operation's MR-NO-REVERSE, which said so
    without running it, folds into it (and leaves ``found``)."""
    rehearsal = m.rollback
    error = rehearsal and (rehearsal.error or rehearsal.reapply_error)
    if rehearsal is None or error is None:
        return []
    detail = error.message.split(" failed: ", 1)[-1].rstrip(".") + "."
    operation = None
    if rehearsal.error is not None and IRREVERSIBLE in rehearsal.error.message:
        operation = next((op for op in m.operations if not op.reversible), None)
    what = "its reverse" if rehearsal.error is not None else "applying it again afterwards"
    if operation is not None:
        what = f"the reverse of `{operation_name(operation)}`"
        detail = "it has none, and Django raises IrreversibleError."
    previous = next((name for app, name in m.dependencies if app == m.app_label), "zero")
    values = {"what": what, "error": detail, "app": m.app_label, "previous": previous}
    ctx = Context(migration=m, operation=operation, sql="")
    failed = finding("MR-ROLLBACK-FAILS", values, ctx, backend)
    if operation is not None:
        failed.folded = [
            f for f in found if f.rule == "MR-NO-REVERSE" and f.operation == operation.index
        ]
        found[:] = [f for f in found if f not in failed.folded]
    return [failed]


ONE_VALUE = (
    "The field's default is a callable, which Django calls once for this UPDATE: every NULL "
    "row gets the same value (`sqlmigrate` shows one it drew, `migrate` runs another). If each "
    "row needs its own, fill them in a RunPython before this migration."
)


def one_value_for_every_row(review: StatementReview, found: list[Finding]) -> None:
    """A statement whose literal is a callable default's, drawn again when applying
    (``CollectedStatement.executed_sql``): say what that means for the rows it fills."""
    review.final.notes.append(ONE_VALUE)
    for f in found:
        if f.rule in ("MR-DML", "MR-DML-UNBOUNDED"):
            f.message = f"{f.message} {ONE_VALUE}"
