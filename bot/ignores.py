"""Explicit, reasoned ignores: how a team accepts a finding without turning the check off.

Two places say "we know, and here is why":

- inline, in the migration file itself::

      # migration-review: ignore MR-LOCK-INDEX -- loans table holds 40 rows

- the config file's ``[[ignore]]`` tables (rule, migration, reason).

An ignore without a reason is an error, not a silent pass: the reason is what the next reader of
the migration needs. Ignored findings stay in the report, marked, and are shown as acknowledged.
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
from bot.models import MigrationReview, Risk

DIRECTIVE = re.compile(r"#\s*migration-review\s*:\s*(?P<body>.*)$")
RULE = r"[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)*"
IGNORE = re.compile(
    rf"ignore\s+(?P<rules>{RULE}(?:\s*,\s*{RULE})*)"
    r"\s*(?:(?:--|—)\s*(?P<reason>.*))?$"
)
EXAMPLE = "# migration-review: ignore MR-LOCK-INDEX -- loans table holds 40 rows"


@dataclass(frozen=True)
class Ignore:
    rule: str
    migration: str
    """app_label.name pattern (shell wildcards), or "" for inline: the file it is written in."""
    reason: str
    source: str
    """"inline" or the config file's path."""


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
        for rule in re.split(r"\s*,\s*", ignore["rules"]):
            check_rule(rule, file=where)
            found.append(Ignore(rule=rule, migration="", reason=reason, source="inline"))
    return found


def config_ignores(config: Config, *, source: str) -> list[Ignore]:
    for entry in config.ignore:
        check_rule(entry.rule, file=source)
    return [
        Ignore(rule=e.rule, migration=e.migration, reason=e.reason.strip(), source=source)
        for e in config.ignore
    ]


def check_rule(rule: str, *, file: str) -> None:
    """An ignore of a rule that does not exist (a typo) would silently ignore nothing."""
    if rule not in RULES:
        raise ReviewError(
            f"unknown rule {rule!r} in an ignore",
            stage="config",
            file=file,
            hint="use a rule id from docs/rules.md, e.g. MR-LOCK-INDEX",
        )


def apply_ignores(migration: MigrationReview, ignores: list[Ignore]) -> None:
    """Mark the findings of ``migration`` that an ignore covers. Inline ignores are per file."""
    for finding in migration.findings:
        for ignore in ignores:
            if ignore.rule != finding.rule:
                continue
            if ignore.migration and not fnmatchcase(migration.label, ignore.migration):
                continue
            finding.ignored = True
            finding.ignore_reason = ignore.reason
            finding.ignore_source = ignore.source
            break


def effective_risk(migration: MigrationReview) -> Risk:
    """The risk that counts for the check: the migration's, minus what was acknowledged.

    A statement's risk is covered by the findings for its rules; a statement whose rules have no
    finding (or that matched no rule: "needs review") still counts, so an ignore can only ever
    silence what it names.
    """
    if not any(f.ignored for f in migration.findings):
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
