"""Findings about the project at head rather than one migration of the pull request, from the
collector's checks (``makemigrations --check --dry-run``' own steps): a migration the models need
and nobody wrote, and an app with two leaf migrations. Every backend raises them alike.

A migration that makemigrations would write at the merge-base too (the same operations) was
already missing before the pull request: it is medium, not the pull request's doing.

A finding names the migration it is about (the one makemigrations would write, or the pull
request's own leaf when it has one), so that an ``[[ignore]]`` of the config can match it.
"""

from __future__ import annotations

from bot.classify import findings as fs
from bot.classify.advice import Context
from bot.classify.backend import Backend
from bot.classify.rules import RULES, fill
from bot.models import (
    ChangeKind,
    CollectedMigration,
    CollectorOutput,
    Conflict,
    Finding,
    MigrationFile,
    MissingMigration,
    Risk,
)

NO_SCHEMA_CHANGE = (
    "None of these changes the database (choices, help texts or model options: the migration "
    "has no SQL), so the deploy breaks nothing; `makemigrations --check` fails until it is "
    "written, and the next developer's `makemigrations` slips it into an unrelated migration."
)

ALREADY_MISSING = (
    "`makemigrations --check` at the merge-base would write the same operations: the base "
    "branch already lacks this migration, this pull request does not add the gap. Write it in "
    "its own pull request."
)


def project_findings(
    output: CollectorOutput,
    files: list[MigrationFile],
    backend: Backend,
    missing_at_base: list[MissingMigration] | None = None,
) -> list[Finding]:
    """``missing_at_base``: what makemigrations would write at the merge-base."""
    touched = {f.path for f in files}
    found = [_conflict(conflict, touched, backend) for conflict in output.conflicts]
    before = {(m.app_label, operation) for m in missing_at_base or [] for operation in m.operations}
    return found + [_missing(missing, backend, before) for missing in output.missing]


def _conflict(conflict: Conflict, touched: set[str], backend: Backend) -> Finding:
    ours = [i for i, path in enumerate(conflict.files) if path in touched]
    leaf = ours[0] if ours else 0
    file = conflict.files[leaf] if leaf < len(conflict.files) else None
    ctx = _context(conflict.app_label, conflict.leaves[leaf], file or "")
    values = {
        "app": conflict.app_label,
        "count": str(len(conflict.leaves)),
        "leaves": ", ".join(f"`{name}`" for name in conflict.leaves),
        "leaf_names": ",".join(conflict.leaves),
    }
    finding = fs.finding("MR-MIGRATION-CONFLICT", values, ctx, backend)
    finding.file = file
    return finding


def _missing(missing: MissingMigration, backend: Backend, before: set[tuple[str, str]]) -> Finding:
    """``before``: the (app, operation) pairs makemigrations would write at the merge-base."""
    ctx = _context(missing.app_label, missing.name, missing.path)
    values = {
        "app": missing.app_label,
        "path": missing.path,
        "operations": "; ".join(missing.operations) or "no operation",
    }
    finding = fs.finding("MR-MISSING-MIGRATION", values, ctx, backend)
    finding.file = missing.models_file  # the file to annotate: the migration does not exist
    if not missing.changes_schema:
        rule = RULES[finding.rule]
        finding.message = f"{fill(rule.message, values)} {NO_SCHEMA_CHANGE}"
        finding.risk_before, finding.risk = finding.risk, Risk.low
        finding.risk_note = "the missing migration has no SQL: the database is not affected."
    elif missing.operations and all((missing.app_label, o) in before for o in missing.operations):
        finding.message += f" {ALREADY_MISSING}"
        finding.risk_before, finding.risk = finding.risk, Risk.medium
        finding.risk_note = "already missing at the merge-base: not this pull request's doing."
    return finding


def _context(app_label: str, name: str, file: str) -> Context:
    """The migration a finding at head is about, as the advice reads it."""
    migration = CollectedMigration(
        app_label=app_label, name=name, file=file, change=ChangeKind.added, atomic=True
    )
    return Context(migration=migration, operation=None, sql="")
