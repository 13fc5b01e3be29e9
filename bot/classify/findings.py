"""Findings: one builder for every backend, the advice dispatch, and the migration-level rules
that do not depend on the backend.

A finding reads the same whichever backend raised it: the rule's message and why, filled with
the hit's names, and the backend's safer code (``advice.safer``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.classify.advice import Context, safer
from bot.classify.backend import Backend
from bot.classify.risk import Reading, View
from bot.classify.rules import RULES, fill
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
    return [finding(CHANGE_RULES[m.change], {"file": m.file}, ctx, backend)]


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
