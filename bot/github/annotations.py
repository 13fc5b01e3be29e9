"""The findings as line annotations: one list for the workflow commands and the check run.

A finding at or above ``fail-on`` is what fails the check, so it is an error; one below it that
still deserves a look (medium and up) is a warning; the rest are notices. Acknowledged findings
are left out: the team already decided about them. Tool errors that name one of the pull
request's migration files are annotated on it too, so an error is never quieter than a finding
(other paths, a template or a temporary folder, may not exist in the repository).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.models import Finding, Report, Risk

Level = Literal["failure", "warning", "notice"]

WORKFLOW_LEVEL = {"failure": "error", "warning": "warning", "notice": "notice"}
"""Check runs say "failure" where workflow commands say "error"."""


@dataclass(frozen=True)
class Annotation:
    level: Level
    file: str
    line: int
    title: str
    message: str
    details: str | None = None


def annotations(report: Report) -> list[Annotation]:
    """Every annotation for a report, most severe first."""
    found = [_from_finding(f, report.fail_on) for f in report.findings if f.file and not f.ignored]
    errors = report.errors + [m.error for m in report.migrations if m.error]
    migration_files = {f.path for f in report.files}
    found += [
        Annotation(
            level="failure",
            file=e.file,
            line=1,
            title=f"migration-review could not review this file ({e.stage})",
            message=f"{e.message}\n{e.hint}" if e.hint else e.message,
        )
        for e in errors
        if e.file in migration_files
    ]
    order = {"failure": 0, "warning": 1, "notice": 2}
    return sorted(found, key=lambda a: (order[a.level], a.file, a.line))


def level_for(risk: Risk, fail_on: Risk) -> Level:
    if risk >= fail_on:
        return "failure"
    return "warning" if risk >= Risk.medium else "notice"


def _from_finding(finding: Finding, fail_on: Risk) -> Annotation:
    assert finding.file is not None
    where = f" in {finding.migration}" if finding.migration else ""
    return Annotation(
        level=level_for(finding.risk, fail_on),
        file=finding.file,
        line=finding.line or 1,
        title=f"{finding.rule} ({finding.risk} risk){where}: {finding.title}",
        message=finding.message,
        details=finding.safer,
    )
