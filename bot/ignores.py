"""Tuning: explicit, reasoned ignores, and the config's per-rule risk overrides.

Three places say "we know, and here is why":

- inline, on or directly above the operation it is about, for that operation only::

      # migration-review: ignore MR-LOCK-INDEX -- loans table holds 40 rows
      migrations.AddIndex(...),

- inline for the whole file, explicitly: ``# migration-review: ignore-file RULE -- reason``;
- the config file's ``[[ignore]]`` tables (rule, migration, reason).

An ignore without a reason is an error, not a silent pass: the reason is what the next reader of
the migration needs, and so is an ``ignore`` that is attached to no operation (it would silence
more than it says). Ignored findings stay in the report, marked, and are shown as acknowledged.

The config's ``[rules]`` table sets a rule's risk for the project (``MR-DROP-INDEX =
"medium"``): the finding keeps the catalogue's risk in ``risk_default`` and the review says
where its risk was set.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from bot.classify.rules import RULES
from bot.config import Config
from bot.errors import ReviewError
from bot.locate import operation_spans
from bot.models import Finding, MigrationReview, Risk

DIRECTIVE = re.compile(r"#\s*migration-review\s*:\s*(?P<body>.*)$")
RULE = r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*"
IGNORE = re.compile(
    rf"(?P<scope>ignore-file|ignore)\s+(?P<rules>{RULE}(?:\s*,\s*{RULE})*)"
    r"\s*(?:(?:--|—)\s*(?P<reason>.*))?$"
)
EXAMPLE = "# migration-review: ignore MR-LOCK-INDEX -- loans table holds 40 rows"
FILE_EXAMPLE = "# migration-review: ignore-file MR-NO-LOCK-TIMEOUT -- set by our DB router"


@dataclass(frozen=True)
class Ignore:
    rule: str
    migration: str
    """app_label.name pattern (shell wildcards), or "" for inline: the file it is written in."""
    reason: str
    source: str
    """"inline" or the config file's path."""
    operation: int | None = None
    """Inline on or above an operation: its index, the only one it covers; None: all of them."""


def inline_ignores(path: Path, *, display: str) -> list[Ignore]:
    """The ignore comments of one migration file; ``display`` is its repository-relative path.

    Only real comments count (tokenize), so the text inside a RunSQL string is never taken for
    a directive.
    """
    try:
        source = path.read_text(encoding="utf-8")
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (OSError, UnicodeDecodeError, tokenize.TokenError, SyntaxError):
        # A file Python cannot read fails in the collector, which reports it with the file.
        return []
    _, spans = operation_spans(path)
    comment_lines = {t.start[0] for t in tokens if t.type == tokenize.COMMENT}
    found: list[Ignore] = []
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        directive = DIRECTIVE.match(token.string)
        if not directive:
            continue
        line = token.start[0]
        body = directive["body"].strip()
        ignore = IGNORE.match(body)
        where = f"{display}:{line}"
        if not ignore:
            message = f"line {line}: cannot read the directive {token.string!r}"
            raise ReviewError(message, stage="config", file=where, hint=f"write it as: {EXAMPLE}")
        reason = (ignore["reason"] or "").strip()
        if not reason:
            message = f"line {line}: the ignore of {ignore['rules']} gives no reason"
            hint = f"say why the finding is acceptable after '--', e.g. {EXAMPLE}"
            raise ReviewError(message, stage="config", file=where, hint=hint)
        operation = None
        if ignore["scope"] == "ignore":
            operation = attached_operation(line, spans, comment_lines)
            if operation is None:
                message = (
                    f"line {line}: the ignore of {ignore['rules']} is not on or directly above "
                    "an operation, so it is not clear what it covers"
                )
                hint = (
                    "move it onto the line above the operation it is about, or make it cover "
                    f"the whole file explicitly: {FILE_EXAMPLE}"
                )
                raise ReviewError(message, stage="config", file=where, hint=hint)
        for rule in re.split(r"\s*,\s*", ignore["rules"]):
            check_rule(rule, file=where)
            found.append(
                Ignore(rule=rule, migration="", reason=reason, source="inline", operation=operation)
            )
    return found


def attached_operation(
    line: int, spans: list[tuple[int, int]], comment_lines: set[int]
) -> int | None:
    """The operation a comment on ``line`` is about: the one whose lines hold it, else the one
    right below it (through a run of comment lines, so that directives can be stacked)."""
    for index, (first, last) in enumerate(spans):
        if first <= line <= last:
            return index
    below = line + 1
    while below in comment_lines:
        below += 1
    return next((index for index, (first, _) in enumerate(spans) if first == below), None)


def config_ignores(config: Config, *, source: str) -> list[Ignore]:
    for entry in config.ignore:
        check_rule(entry.rule, file=source)
    return [
        Ignore(rule=e.rule, migration=e.migration, reason=e.reason.strip(), source=source)
        for e in config.ignore
    ]


def check_rule(rule: str, *, file: str, where: str = "an ignore") -> None:
    """An ignore of a rule that does not exist (a typo) would silently ignore nothing."""
    if rule not in RULES:
        raise ReviewError(
            f"unknown rule {rule!r} in {where}",
            stage="config",
            file=file,
            hint="use a rule id from docs/rules.md, e.g. MR-LOCK-INDEX",
        )


def apply_ignores(migration: MigrationReview, ignores: list[Ignore]) -> None:
    """Mark the findings of ``migration`` that an ignore covers.

    An inline ignore on an operation covers that operation's findings only; findings about the
    whole migration (no operation) are covered by file-wide and config ignores alone.
    """
    mark(migration.findings, migration.label, ignores)


def apply_project_ignores(findings: list[Finding], ignores: list[Ignore]) -> None:
    """Mark the findings at head that an ignore of the config covers; each is matched by the
    migration it names (the one makemigrations would write, a conflicting leaf)."""
    for finding in findings:
        mark([finding], finding.migration or "", [i for i in ignores if i.source != "inline"])


def mark(findings: list[Finding], label: str, ignores: list[Ignore]) -> None:
    for finding in findings:
        for ignore in ignores:
            if ignore.rule != finding.rule:
                continue
            if ignore.migration and not fnmatchcase(label, ignore.migration):
                continue
            if ignore.operation is not None and ignore.operation != finding.operation:
                continue
            finding.ignored = True
            finding.ignore_reason = ignore.reason
            finding.ignore_source = ignore.source
            break


def apply_risk_overrides(
    migration: MigrationReview, overrides: dict[str, Risk], *, source: str
) -> None:
    """Give the findings of the rules in the config's ``[rules]`` table the risk set there."""
    for finding in migration.findings:
        risk = overrides.get(finding.rule)
        if risk is None or risk == finding.risk:
            continue
        finding.risk_default = finding.risk
        finding.risk_source = source
        finding.risk = risk


def config_risk_overrides(config: Config, *, source: str) -> dict[str, Risk]:
    for rule in config.rules:
        check_rule(rule, file=source, where="[rules]")
    return dict(config.rules)


def effective_risk(migration: MigrationReview) -> Risk:
    """The risk that counts for the check: the migration's, minus what was acknowledged, with
    the risks the config set for its rules.

    A statement's risk is covered by the findings for its rules; a statement whose rules have no
    finding (or that matched no rule: "needs review") still counts, so an ignore or a lowered
    rule can only ever change what it names.
    """
    if not any(f.ignored or f.risk_default is not None for f in migration.findings):
        return migration.risk
    return risk_of(migration, acknowledged=False)


def risk_of(migration: MigrationReview, *, acknowledged: bool = True) -> Risk:
    """The worst of the findings (the acknowledged ones too, unless told otherwise) and of the
    statements no finding speaks for."""
    explained = migration.explained
    risks = [f.risk for f in migration.findings if acknowledged or not f.ignored]
    risks += [
        s.final.risk
        for s in migration.statements + migration.unrendered
        if not s.final.rules or not explained.issuperset(s.final.rules)
    ]
    return Risk.worst(risks)
