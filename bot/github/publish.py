"""Publishing a report on its pull request: the sticky comment, then the optional check run.

Publishing can fail in ways the review itself is not affected by, and the verdict must survive
them: every failure here is caught, explained (what happened, what to do) and returned, never
raised. A 403 is a read-only token (a fork's pull request, or a job without write permissions):
the review is in the job summary and the report anyway, so it is a warning. Anything else
(GitHub down after the retries, a bad API URL) is an error the caller turns into a failed step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from github import Github
from github.Repository import Repository

from bot.errors import ReviewError, format_error
from bot.github.annotations import Annotation
from bot.github.checks import CHECK_NAME, publish_check_run
from bot.github.client import PublishFailure, describe, is_forbidden, own_login
from bot.github.comment import upsert
from bot.github.event import Event
from bot.models import Report

FORK_HINT = (
    "A pull request from a fork gets a read-only token, so the review could not be posted; it "
    "is in this job's summary and in the JSON report. To comment on fork pull requests, use the "
    "fork-safe set-up: `mode: analyze` in the pull_request workflow (upload the report as an "
    "artifact) and `mode: comment` in a workflow_run workflow (docs/github.md, fork-safe mode)."
)
PERMISSIONS_HINT = (
    "The token may not write to this repository: give the job `permissions: pull-requests: "
    "write` (and `checks: write` for check-run), or check the github-token input."
)


@dataclass
class Outcome:
    """What publishing did: the comment's URL, and the problems met, as Markdown lines."""

    comment_url: str | None = None
    check_run_url: str | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def failed(self, what: str, exc: Exception, event: Event) -> None:
        reason = f"could not publish the {what}: {describe(exc)}"
        if is_forbidden(exc):
            hint = FORK_HINT if event.from_fork else PERMISSIONS_HINT
            self.warnings.append(f"{reason}. {hint}")
        else:
            self.errors.append(f"{reason}. The verdict above stands; re-run the job to publish.")


def has_changes(report: Report) -> bool:
    """Whether the pull request has anything to say a review about (an error counts)."""
    return bool(report.files or report.migrations or report.errors or report.project_findings)


def publish(
    gh: Github,
    event: Event,
    report: Report,
    *,
    body: str,
    title: str,
    found: list[Annotation],
    check_run: bool,
    verify_head: bool,
    check_summary: str | None = None,
    check_name: str = CHECK_NAME,
) -> Outcome:
    """Post ``body`` as the sticky comment and, when asked, the check run.

    ``verify_head`` (comment mode) first checks that the report belongs to the pull request it
    names: the report comes from an artifact the pull request's own code could have written.
    """
    outcome = Outcome()
    repo = gh.get_repo(event.repository)
    try:
        comment_ok = _check_target(repo, event, report, outcome) if verify_head else True
    except ReviewError as exc:
        outcome.errors.append(format_error(exc.error))
        return outcome
    except PublishFailure as exc:
        outcome.failed("review comment", exc, event)
        comment_ok = False
    if comment_ok and report.pull_request is not None:
        try:
            issue = repo.get_issue(report.pull_request)
            comment = upsert(issue, body, login=own_login(gh), create=has_changes(report))
            outcome.comment_url = comment.html_url if comment else None
        except PublishFailure as exc:
            outcome.failed("review comment", exc, event)
    if check_run and report.head_sha:
        try:
            run = publish_check_run(
                repo,
                report,
                title=title,
                summary=body if check_summary is None else check_summary,
                found=found,
                name=check_name,
            )
            outcome.check_run_url = run.html_url
        except PublishFailure as exc:
            outcome.failed("check run", exc, event)
    return outcome


def _check_target(repo: Repository, event: Event, report: Report, outcome: Outcome) -> bool:
    """Whether the comment may be posted: the report is for this run's pull request, at its head.

    The head commit of a ``workflow_run`` event is set by GitHub, not by the pull request's
    code; the report must be for that commit, and the pull request it names must be at it.
    A pull request that has moved on since is left to the run for its newer head.
    """
    if report.pull_request is None or not report.head_sha:
        raise ReviewError(
            "the report names no pull request or head commit",
            stage="publish",
            hint="make the report with `mode: analyze` on a pull_request event",
        )
    if event.run_head_sha and report.head_sha != event.run_head_sha:
        raise ReviewError(
            f"the report is for commit {report.head_sha[:12]}, but the run that triggered this "
            f"workflow built {event.run_head_sha[:12]}",
            stage="publish",
            hint="download the report artifact of the triggering run "
            "(run-id: ${{ github.event.workflow_run.id }})",
        )
    if event.run_pull_requests and report.pull_request not in event.run_pull_requests:
        raise ReviewError(
            f"the report names pull request #{report.pull_request}, but the triggering run "
            f"belongs to #{', #'.join(map(str, event.run_pull_requests))}",
            stage="publish",
            hint="download the report artifact of the triggering run",
        )
    head = repo.get_pull(report.pull_request).head.sha
    if head != report.head_sha:
        outcome.warnings.append(
            f"pull request #{report.pull_request} has moved on to {head[:12]} since this report "
            f"(for {report.head_sha[:12]}) was made: the comment is left to the newer run."
        )
        return False
    return True
