"""A rule hit as the report carries it: one builder for every backend's review, so a finding
reads the same whichever backend raised it."""

from __future__ import annotations

from bot.classify.alternatives import safer
from bot.classify.rules import RULES, fill
from bot.classify.suggest import Context
from bot.models import ChangeKind, Finding, Risk

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
    *,
    backend: str = "postgresql",
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
        safer=safer(rule.id, ctx, values, backend=backend),
        migration=f"{ctx.migration.app_label}.{ctx.migration.name}",
        statement=statement,
        operation=ctx.operation.index if ctx.operation else None,
        file=ctx.migration.file,
    )
