"""The optional check run: a title, the review as its summary, and per-line annotations.

The Checks API takes at most 50 annotations per request and appends those of each update, so
the run is created with the first 50 and updated with the rest. Its conclusion follows the
report's decision, and an error is a failure, never a pass.
"""

from __future__ import annotations

from github.CheckRun import CheckRun
from github.Repository import Repository

from bot.github.annotations import Annotation
from bot.models import Report

CHECK_NAME = "migration-review"
ANNOTATIONS_PER_REQUEST = 50
MAX_SUMMARY_CHARS = 65535
CONCLUSION = {"pass": "success", "fail": "failure", "error": "failure"}


def publish_check_run(
    repo: Repository, report: Report, *, title: str, summary: str, found: list[Annotation]
) -> CheckRun:
    assert report.head_sha, "a check run needs the head commit"
    batches = [
        [_payload(a) for a in found[i : i + ANNOTATIONS_PER_REQUEST]]
        for i in range(0, len(found), ANNOTATIONS_PER_REQUEST)
    ] or [[]]
    run = repo.create_check_run(
        name=CHECK_NAME,
        head_sha=report.head_sha,
        status="completed",
        conclusion=CONCLUSION[report.decision],
        output={"title": title, "summary": summary, "annotations": batches[0]},
    )
    for batch in batches[1:]:
        run.edit(output={"title": title, "summary": summary, "annotations": batch})
    return run


def _payload(a: Annotation) -> dict[str, str | int]:
    payload: dict[str, str | int] = {
        "path": a.file,
        "start_line": a.line,
        "end_line": a.line,
        "annotation_level": a.level,
        "title": a.title,
        "message": a.message,
    }
    if a.details:
        payload["raw_details"] = a.details
    return payload
