"""The report as SARIF 2.1.0, for GitHub code scanning (``--format sarif``, ``sarif-path``).

Each rule of the catalogue the review found is a ``reportingDescriptor`` with its id, title and
its ``docs/rules.md`` entry as help (why it hurts, the bad and the safer code); each finding
is a result at the line of the operation it is about. An acknowledged finding stays, with a
suppression carrying the reason. Errors of the run are ``toolExecutionNotifications`` and make
``executionSuccessful`` false: code scanning must not show a run that could not look as clean.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from bot import __version__
from bot.classify.docs import entry, generic
from bot.classify.rules import RULES, Rule
from bot.models import Finding, Report, Risk

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
PROJECT = "https://github.com/django-migration-review/django-migration-review"
RULES_DOC = f"{PROJECT}/blob/main/docs/rules.md"
SRCROOT = "%SRCROOT%"
"""The repository root: finding paths are relative to it, as the diff gives them."""
SECURITY_SEVERITY = {
    Risk.safe: "0.0",
    Risk.low: "3.0",
    Risk.medium: "5.0",
    Risk.high: "7.5",
    Risk.critical: "9.5",
}
"""Code scanning sorts and filters by this (0-10), from the risk."""


def level(risk: Risk, fail_on: Risk) -> str:
    """error: fails the check; warning: medium and above; note: below."""
    if risk >= fail_on:
        return "error"
    return "warning" if risk >= Risk.medium else "note"


def to_sarif(report: Report) -> dict[str, Any]:
    findings = report.findings
    used = list(dict.fromkeys(f.rule for f in findings if f.rule in RULES))
    index = {rule_id: position for position, rule_id in enumerate(used)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "django-migration-review",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": PROJECT,
                "rules": [descriptor(RULES[rule_id], report.fail_on) for rule_id in used],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The repository's root."}}},
        "results": [result(f, report.fail_on, index.get(f.rule)) for f in findings],
        "invocations": [invocation(report)],
        "properties": {"risk": str(report.risk), "decision": report.decision},
    }
    if report.head_sha:
        run["versionControlProvenance"] = [
            {"repositoryUri": report.repo or PROJECT, "revisionId": report.head_sha}
        ]
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}


def sarif_json(report: Report) -> str:
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"


def descriptor(rule: Rule, fail_on: Risk) -> dict[str, Any]:
    anchor = rule.id.lower()
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")[1:]),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": generic(rule.why)},
        "help": {"text": help_text(rule), "markdown": entry(rule)},
        "helpUri": f"{RULES_DOC}#{anchor}",
        "defaultConfiguration": {"level": level(rule.risk, fail_on)},
        "properties": {
            "tags": ["django", "migrations", rule.family],
            "precision": "high" if rule.family == "lock" else "medium",
            "security-severity": SECURITY_SEVERITY[rule.risk],
            "risk": str(rule.risk),
        },
    }


def help_text(rule: Rule) -> str:
    return (
        f"{rule.title}\n\n{generic(rule.message)}\n\nWhy it hurts: {generic(rule.why)}\n\n"
        f"Safer:\n{rule.safe.code}\n"
    )


def result(finding: Finding, fail_on: Risk, rule_index: int | None) -> dict[str, Any]:
    text = finding.message
    if finding.migration:
        text = f"{finding.migration}: {text}"
    entry: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": level(finding.risk, fail_on),
        "message": {"text": text},
        "partialFingerprints": {"migrationReview/v1": fingerprint(finding)},
        "properties": {"risk": str(finding.risk)},
    }
    if rule_index is not None:
        entry["ruleIndex"] = rule_index
    if finding.file:
        physical: dict[str, Any] = {"artifactLocation": {"uri": finding.file, "uriBaseId": SRCROOT}}
        if finding.line:
            physical["region"] = {"startLine": finding.line}
        entry["locations"] = [{"physicalLocation": physical}]
    if finding.ignored:
        entry["suppressions"] = [
            {
                "kind": "inSource" if finding.ignore_source == "inline" else "external",
                "status": "accepted",
                "justification": finding.ignore_reason or "",
            }
        ]
    return entry


def fingerprint(finding: Finding) -> str:
    """Stable across pushes that do not change the finding: its rule, migration and place."""
    key = "\0".join(
        str(part)
        for part in (finding.rule, finding.migration, finding.operation, finding.statement)
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def invocation(report: Report) -> dict[str, Any]:
    errors = report.errors + [m.error for m in report.migrations if m.error]
    notes = []
    for error in errors:
        note: dict[str, Any] = {
            "level": "error",
            "message": {"text": f"{error.stage}: {error.message}"},
        }
        if error.hint:
            note["message"]["text"] += f" (hint: {error.hint})"
        if error.file:
            path = error.file.rsplit(":", 1)
            location: dict[str, Any] = {"artifactLocation": {"uri": path[0], "uriBaseId": SRCROOT}}
            if len(path) == 2 and path[1].isdigit():
                location["region"] = {"startLine": int(path[1])}
            note["locations"] = [{"physicalLocation": location}]
        notes.append(note)
    return {"executionSuccessful": not errors, "toolExecutionNotifications": notes}
