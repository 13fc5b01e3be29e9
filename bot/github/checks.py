"""The optional check run: a title, the review as its summary, and per-line annotations.

The Checks API takes at most 50 annotations per request and appends those of each update, so
the run is created with the first 50 and updated with the rest. Its conclusion follows the
report's decision, and an error is a failure, never a pass.

GitHub refuses (422) a summary over 65,535 bytes, which a review of the same number of
characters exceeds as soon as it holds an emoji or a dash, an annotation title over 255
characters and an annotation message over 64 KB: ``fit_bytes`` renders the summary to the byte
limit, and each annotation is cut to its limits.
"""

from __future__ import annotations

from collections.abc import Callable

from github.CheckRun import CheckRun
from github.Repository import Repository

from bot.github.annotations import Annotation
from bot.models import Report

CHECK_NAME = "migration-review"
ANNOTATIONS_PER_REQUEST = 50
MAX_SUMMARY_BYTES = 65535
MAX_TITLE_CHARS = 255
MAX_MESSAGE_BYTES = 64 * 1024
CONCLUSION = {"pass": "success", "fail": "failure", "error": "failure"}


def fit_bytes(render: Callable[[int], str], max_bytes: int = MAX_SUMMARY_BYTES) -> str:
    """The fullest ``render(max_chars)`` whose UTF-8 encoding fits in ``max_bytes``."""
    chars = max_bytes
    while True:
        text = render(chars)
        size = len(text.encode())
        if size <= max_bytes or chars == 1:
            return text
        chars = max(1, min(chars - 1, chars * max_bytes // size))


def cut(text: str, *, chars: int | None = None, max_bytes: int | None = None) -> str:
    """``text`` within ``chars`` characters and ``max_bytes`` UTF-8 bytes, "…" where cut."""
    if chars is not None and len(text) > chars:
        text = text[: chars - 1] + "…"
    if max_bytes is not None and len(text.encode()) > max_bytes:
        kept = text.encode()[: max_bytes - len("…".encode())]
        text = kept.decode(errors="ignore") + "…"
    return text


def publish_check_run(
    repo: Repository,
    report: Report,
    *,
    title: str,
    summary: str,
    found: list[Annotation],
    name: str = CHECK_NAME,
) -> CheckRun:
    """``summary`` should fit already (``fit_bytes``): cut here, its Markdown may break."""
    assert report.head_sha, "a check run needs the head commit"
    summary = cut(summary, max_bytes=MAX_SUMMARY_BYTES)
    batches = [
        [_payload(a) for a in found[i : i + ANNOTATIONS_PER_REQUEST]]
        for i in range(0, len(found), ANNOTATIONS_PER_REQUEST)
    ] or [[]]
    run = repo.create_check_run(
        name=name,
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
        "title": cut(a.title, chars=MAX_TITLE_CHARS),
        "message": cut(a.message, max_bytes=MAX_MESSAGE_BYTES),
    }
    if a.details:
        payload["raw_details"] = cut(a.details, max_bytes=MAX_MESSAGE_BYTES)
    return payload
