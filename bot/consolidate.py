"""Consolidate: from rule hits to the decisions a maintainer takes, one finding per decision.

Classify raises a finding per rule hit, estimate sizes each statement; this stage, run on the
whole review before the verdict, turns them into what is decided on:

- a finding that is part of another's decision is folded into it (``Finding.folded``): the lock
  findings of one operation (the held-lock finding for the scan SET NOT NULL already reports),
  and every statement's finding in a modified migration;
- the findings of one rule on one table in one migration become one, listing the columns
  (``Finding.members``, ``Finding.columns``), with one alternative;
- with table statistics, table-sized work estimated under ``small-table-seconds`` drops to low,
  showing the estimate (``Finding.risk_before``, ``Finding.risk_note``);
- an edit of a merged migration that changes none of its operations (formatting, imports),
  that restores its content in the latest release, or after which the history still ends with
  the same schema, is low;
- with ``deploy = "downtime"`` the deploy-order rules do not apply (``MigrationReview.off``),
  lock findings say how long the downtime lasts, and table-sized work of a table without
  statistics is medium (it blocks no one; only its size could make the downtime long);
- project-wide advice (the lock_timeout one) is one note per review (``Report.notes``);
- the edits of several merged migrations in one change are one finding;
- a reset or squash (many deleted migrations of an app and a new initial one) is one decision
  (``Report.resets``).

Nothing is lost: the grouped, folded and turned-off findings stay in the JSON report.
"""

from __future__ import annotations

from collections import defaultdict

from bot.classify.rules import RULES
from bot.estimate import format_range, format_size
from bot.ignores import risk_of
from bot.models import (
    ChangeKind,
    Deploy,
    Finding,
    Impact,
    MigrationReview,
    OperationInfo,
    Report,
    Reset,
    Risk,
    StatementReview,
)

DEFAULT_SMALL_TABLE_SECONDS = 1.0

MODIFIED = "MR-MIGRATION-MODIFIED"
"""In a modified migration the other findings fold into this one: databases that applied the
migration never run it again, so the decision is about the edit."""

UNCHANGED_EDIT = (
    "the edit changes nothing Django runs: at the merge-base the migration has the same "
    "operations, dependencies and atomic (compared deconstructed, functions by their code), "
    "so a database that applied it is in the state the new version describes."
)

SAME_END_SCHEMA = (
    "the edit changes how a fresh database reaches its schema, not the schema it ends with: "
    "the history at head, run with the merge-base versions of the migrations this change edits, "
    "ends with the same tables, columns, indexes and constraints as with the new versions, so "
    "databases that applied the old versions and fresh ones agree."
)

RESTORED_RELEASE = (
    "the edit restores the version released in `{tag}`, byte for byte: every database running "
    "a release applied exactly this file; only one migrated from an unreleased commit since "
    "(a development or staging database) has the version this change undoes."
)

EDIT_RULES = ("MR-MIGRATION-MODIFIED", "MR-MIGRATION-RENAMED")
"""Edits of merged migrations: in one change, however many files, one decision."""

REVIEW_NOTES = frozenset({"MR-NO-LOCK-TIMEOUT", "MR-MYSQL-NO-LOCK-WAIT-TIMEOUT"})
"""Advice about how the project runs migrations: one note per review."""

SIZED_KINDS = frozenset({"scan", "rewrite", "index", "index-concurrent", "dml"})

RESET_MESSAGE = (
    "{count} merged migrations of `{app}` are deleted and {initial} replaces them: a reset of "
    "the app's migrations (or the last step of a squash)."
)
RESET_WHY = (
    "Every existing database has applied the old migrations but not the new one: unless the new "
    "migration lists the old ones in `replaces` (as `squashmigrations` writes it), `migrate` "
    "tries to create the app's tables again and fails, and a database that missed one of the "
    "deleted migrations never gets its change."
)
RESET_SAFER = (
    "keep the deleted migrations until every database (production, staging, each developer's) "
    "has applied them; then either squash with `manage.py squashmigrations` (the new migration "
    "gets `replaces`, so Django records it as applied), or, for a hand-made reset, run "
    "`manage.py migrate --fake {app} {name}` on every existing database as part of the deploy."
)


def consolidate(
    report: Report,
    *,
    deploy: Deploy = "rolling",
    small_table_seconds: float = DEFAULT_SMALL_TABLE_SECONDS,
) -> None:
    """Consolidate the review's findings in place (see the module's docstring)."""
    report.deploy = deploy
    report.small_table_seconds = small_table_seconds
    sized = report.stats_source is not None
    for migration in report.migrations:
        if deploy == "downtime":
            migration.off += [f for f in migration.findings if RULES[f.rule].deploy_order]
            migration.findings = [f for f in migration.findings if f not in migration.off]
        for finding in migration.findings:
            if finding.rule == MODIFIED and finding.risk > Risk.low:
                harmless_edit(finding, migration)
            finding.table = finding.table or table_of(migration, finding)
            impact = statement_impact(migration, finding)
            if RULES[finding.rule].family == "lock":
                if impact is not None:
                    size_finding(finding, impact, sized=sized, threshold=small_table_seconds)
                if impact is not None and deploy == "downtime":
                    finding.message += " " + downtime_note(impact)
                if deploy == "downtime":
                    unsized_downtime(finding, impact)
        migration.findings = group(fold(migration.findings), migration)
    report.notes += review_notes(report)
    report.resets += resets(report)
    edits(report)
    for migration in report.migrations:
        migration.risk = risk_of(migration)


def harmless_edit(finding: Finding, migration: MigrationReview) -> None:
    """An edit after which every database has the schema the new version describes is low."""
    if migration.same_as_base:
        note = UNCHANGED_EDIT
    elif migration.restores_release:
        note = RESTORED_RELEASE.format(tag=migration.restores_release)
    elif migration.same_end_schema:
        note = SAME_END_SCHEMA
    else:
        return
    finding.risk_before, finding.risk, finding.risk_note = finding.risk, Risk.low, note


def operation_of(migration: MigrationReview, finding: Finding) -> OperationInfo | None:
    """The operation a finding is about: operation i is the i-th (the collector numbers them
    in order), found without reading the others, as thousands of findings may ask."""
    index, ops = finding.operation, migration.operations
    if index is None:
        return None
    if 0 <= index < len(ops) and ops[index].index == index:
        return ops[index]
    return next((op for op in ops if op.index == index), None)


def table_of(migration: MigrationReview, finding: Finding) -> str | None:
    """The table a finding is about: its operation's model's, else its statement's."""
    op = operation_of(migration, finding)
    if op is not None and op.table:
        return op.table
    impact = statement_impact(migration, finding)
    return impact.table if impact is not None else None


def statement_impact(migration: MigrationReview, finding: Finding) -> Impact | None:
    statement = _statement(migration, finding)
    return statement.impact if statement is not None else None


def _statement(migration: MigrationReview, finding: Finding) -> StatementReview | None:
    if finding.statement is None or finding.statement >= len(migration.statements):
        return None
    return migration.statements[finding.statement]


def size_finding(finding: Finding, impact: Impact, *, sized: bool, threshold: float) -> None:
    """Table-sized work estimated under ``threshold`` from statistics drops to low; without
    statistics the finding says it depends on the table's size."""
    if impact.kind not in SIZED_KINDS or finding.risk <= Risk.low:
        return
    table = f"`{impact.table}`" if impact.table else "the table"
    if impact.seconds_high is None:
        if not sized:
            finding.risk_note = (
                f"this applies if {table} is large: no table statistics were given, so its size "
                f"is unknown (with `table-stats`, work estimated under {_seconds(threshold)} "
                "drops to low)."
            )
        return
    if impact.seconds_high >= threshold:
        return
    size = format_size(impact, separator=", ")
    finding.risk_before = finding.risk
    finding.risk = Risk.low
    low = impact.seconds_low if impact.seconds_low is not None else impact.seconds_high
    finding.risk_note = (
        f"{table} is small{f' ({size})' if size else ''}: estimated "
        f"{format_range(low, impact.seconds_high)}, under small-table-seconds "
        f"({_seconds(threshold)}), so {finding.risk_before} drops to low."
    )


def _seconds(value: float) -> str:
    return f"{value:g} s"


def downtime_note(impact: Impact) -> str:
    """What a blocking statement means when the application is stopped during the deploy."""
    if impact.seconds_high is not None:
        low = impact.seconds_low if impact.seconds_low is not None else impact.seconds_high
        how_long = f"about {format_range(low, impact.seconds_high)}"
    elif impact.grows_with:
        how_long = f"as long as the work takes, which grows with the {impact.grows_with}"
    else:
        how_long = "as long as the work takes"
    return (
        'With `deploy = "downtime"` nothing else waits on this lock: it makes the downtime '
        f"longer, by {how_long}."
    )


def unsized_downtime(finding: Finding, impact: Impact | None) -> None:
    """With the application stopped, table-sized work blocks no one: what it costs is a longer
    downtime, which only a size tells. Without one (no statistics for the table, or work of a
    RunPython, which has no statement to estimate) the finding is medium; with one, the
    estimate decides (``size_finding``)."""
    if impact is not None and (impact.kind not in SIZED_KINDS or impact.seconds_high is not None):
        return
    if finding.risk <= Risk.medium:
        return
    finding.risk_before, finding.risk = finding.risk, Risk.medium
    if impact is None:
        finding.risk_note = (
            'with `deploy = "downtime"` the lock blocks no one, and how long the work of the '
            f"operation takes cannot be estimated: {finding.risk_before} only if it runs long "
            "on a large table."
        )
        return
    table = f"`{impact.table}`" if impact.table else "the table"
    finding.risk_note = (
        f'with `deploy = "downtime"` the lock blocks no one, and without statistics for {table} '
        f"how much longer the downtime lasts is unknown: give `table-stats`, and work estimated "
        f"at or over small-table-seconds is {finding.risk_before} again."
    )


def fold(findings: list[Finding]) -> list[Finding]:
    """Fold the findings that are part of another's decision into it.

    The lock findings of one operation are one decision, taken by the worst of them: Django's
    AlterField to NOT NULL with a default is a SET DEFAULT, a backfill under the lock it took, a
    SET NOT NULL scan and more, with one safer way. In a modified migration every finding about
    its statements and operations is part of the decision about the edit (``MODIFIED``).
    """
    hosts: dict[int, Finding] = {}
    for finding in findings:
        if finding.operation is None or RULES[finding.rule].family != "lock":
            continue
        host = hosts.get(finding.operation)
        if host is None or _weight(finding) > _weight(host):
            hosts[finding.operation] = finding
    edited = next((f for f in findings if f.rule == MODIFIED), None)
    kept: list[Finding] = []
    for finding in findings:
        if finding.operation is None or RULES[finding.rule].family != "lock":
            of_migration = finding.statement is not None or finding.operation is not None
            host = edited if edited is not None and of_migration else None
        else:
            host = edited if edited is not None else hosts.get(finding.operation)
        if host is None or host is finding or host.ignored != finding.ignored:
            kept.append(finding)
        else:
            host.folded.append(finding)
    return kept


def _weight(finding: Finding) -> tuple[int, bool]:
    return finding.risk.rank, not RULES[finding.rule].restates


def group(findings: list[Finding], migration: MigrationReview) -> list[Finding]:
    """One finding per rule and table: the first of each group stands for the others."""
    groups: dict[tuple, list[Finding]] = defaultdict(list)
    order: list[tuple] = []
    for n, finding in enumerate(findings):
        key = (finding.rule, finding.table, finding.ignored) if finding.table else (n,)
        if key not in groups:
            order.append(key)
        groups[key].append(finding)
    return [merged(groups[key], migration) for key in order]


def merged(members: list[Finding], migration: MigrationReview) -> Finding:
    if len(members) == 1:
        return members[0]
    first = members[0]
    columns = list(dict.fromkeys(c for f in members if (c := _column(migration, f))))
    others = [c for c in columns if c != _column(migration, first)]
    if others:
        more = (
            f"The same applies to {_count(len(others), 'more column')} of `{first.table}` in "
            f"this migration: {', '.join(f'`{c}`' for c in others)}."
        )
    else:
        more = (
            f"The same applies to {_count(len(members) - 1, 'more statement')} on `{first.table}`."
        )
    counted = _count(len(columns), "column") if len(columns) > 1 else f"{len(members)} times"
    dropped = [f for f in members if f.risk_before is not None]
    group = first.model_copy(
        update={
            "risk": Risk.worst([f.risk for f in members]),
            "title": f"{first.title} ({counted})",
            "message": f"{first.message} {more}",
            "columns": columns,
            "members": members,
            "folded": [f for m in members for f in m.folded],
            "risk_before": Risk.worst([f.risk_before for f in dropped if f.risk_before])
            if len(dropped) == len(members)
            else None,
            "risk_note": first.risk_note if len(dropped) in (0, len(members)) else None,
        },
        deep=True,
    )
    return group


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def _column(migration: MigrationReview, finding: Finding) -> str | None:
    op = operation_of(migration, finding)
    return op.field_name if op is not None else None


def review_notes(report: Report) -> list[Finding]:
    """Project-wide advice, taken out of each migration into one note per rule."""
    notes: list[Finding] = []
    for rule_id in sorted(REVIEW_NOTES):
        members = [
            f for m in report.migrations for f in m.findings if f.rule == rule_id and not f.ignored
        ]
        if not members:
            continue
        for migration in report.migrations:
            take(migration, members)
        rule = RULES[rule_id]
        labels = list(dict.fromkeys(f.migration for f in members if f.migration))
        count = len(labels)
        where = ", ".join(f"`{label}`" for label in labels)
        notes.append(
            members[0].model_copy(
                update={
                    "risk": Risk.worst([f.risk for f in members]),
                    "message": (
                        f"{count} migration{' takes' if count == 1 else 's take'} locks that "
                        f"block traffic without a timeout: {where}. {rule.why}"
                    ),
                    "members": members,
                    "statement": None,
                },
                deep=True,
            )
        )
    return notes


def take(migration: MigrationReview, findings: list[Finding]) -> None:
    """Take ``findings`` out of ``migration``: they are shown as part of another decision."""
    taken = [f for f in migration.findings if f in findings]
    migration.findings = [f for f in migration.findings if f not in taken]
    migration.elsewhere += sorted({rule for f in taken for rule in f.rules})


def edits(report: Report) -> None:
    """The edits of several merged migrations in one change are one decision, shown on the
    first of them."""
    for rule_id in EDIT_RULES:
        found = [
            (m, f)
            for m in report.migrations
            for f in m.findings
            if f.rule == rule_id and not f.ignored and f.risk > Risk.low
        ]
        if len(found) < 2:
            continue
        (first_migration, first), *rest = found
        others = [f for _, f in rest]
        for migration, _ in rest:
            take(migration, others)
        labels = ", ".join(f"`{f.migration}`" for f in others)
        group = first.model_copy(
            update={
                "risk": Risk.worst([first.risk, *(f.risk for f in others)]),
                "title": f"{first.title} ({_count(len(found), 'migration')})",
                "message": f"{first.message} The same applies to "
                f"{_count(len(others), 'more migration')} of this change: {labels}.",
                "members": [first, *others],
            }
        )
        first_migration.findings = [group if f is first else f for f in first_migration.findings]


def resets(report: Report) -> list[Reset]:
    """Apps whose merged migrations are deleted and replaced by a new initial migration."""
    found: list[Reset] = []
    by_app: dict[str, list[MigrationReview]] = defaultdict(list)
    for migration in report.migrations:
        by_app[migration.app_label].append(migration)
    for app, migrations in by_app.items():
        deleted = [m for m in migrations if m.change == ChangeKind.deleted]
        initial = [
            m
            for m in migrations
            if m.change in (ChangeKind.added, ChangeKind.modified)
            and not any(dep[0] == app for dep in m.dependencies)
            and not m.error
        ]
        if len(deleted) < 2 or not initial:
            continue
        members = [f for m in deleted for f in m.findings if not f.ignored]
        members += [
            f
            for m in initial
            for f in m.findings
            if f.rule == "MR-MIGRATION-MODIFIED" and not f.ignored
        ]
        for m in deleted + initial:
            take(m, members)
        names = ", ".join(f"`{m.label}`" for m in initial)
        values = {"count": str(len(deleted)), "app": app, "initial": names}
        rule = RULES["MR-MIGRATION-DELETED"]
        finding = Finding(
            rule=rule.id,
            risk=Risk.worst([rule.risk, *(f.risk for f in members)]),
            title=f"Migrations of `{app}` reset: {len(deleted)} deleted, a new initial migration",
            message=f"{RESET_MESSAGE.format(**values)} {RESET_WHY}",
            safer=RESET_SAFER.format(app=app, name=initial[0].name),
            migration=initial[0].label,
            file=initial[0].file,
            line=min((f.line for f in initial[0].findings if f.line), default=None),
            members=members,
        )
        found.append(
            Reset(
                app_label=app,
                initial=[m.label for m in initial],
                deleted=[m.label for m in deleted],
                finding=finding,
            )
        )
    return found
