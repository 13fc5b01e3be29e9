"""``migration-review github``: what the action's container runs.

Three modes, for the two ways a repository can run it:

- ``review`` (one workflow on ``pull_request``): review the pull request and publish;
- ``analyze`` then ``comment`` (fork-safe): the ``pull_request`` workflow runs the pull request's
  code with a read-only token and writes the JSON report, which the workflow uploads; a second
  workflow, on ``workflow_run``, downloads it and publishes it without checking out or running
  the pull request's code.

Whatever the mode, the findings become ``::error file=...,line=...::`` annotations, the review
goes to the job summary and the step outputs are set: those need no token, so a fork's pull
request gets them too. The exit code is the verdict's (0 pass, 1 fail-on reached, 2 error); a
failure to post never turns a fail or an error into a pass.

The token is taken out of the environment before anything else runs, and out of the process's
start-up environment too (``take_token``, ``restart_without_secrets``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from github import Github

from bot import __version__, markdown
from bot.cli import seconds
from bot.collect import TIMEOUT
from bot.errors import EXIT_CODES, EXIT_ERROR, EXIT_PASS, ReviewError, format_error
from bot.github import workflow
from bot.github.annotations import WORKFLOW_LEVEL, Annotation, annotations
from bot.github.checks import CHECK_NAME, fit_bytes
from bot.github.client import PublishFailure, connect, describe
from bot.github.event import (
    INPUTS,
    Event,
    action_input,
    pr_number,
    read_event,
    read_json_file,
    restart_without_secrets,
    take_token,
)
from bot.github.publish import publish
from bot.models import Deploy, Report, Risk
from bot.pipeline import DEFAULT_FAIL_ON, ReviewOptions, decide, headline, review
from bot.render import render_markdown
from bot.sarif import sarif_json

MODES = ("review", "analyze", "comment")
DEPLOYS = ("rolling", "downtime")
DEFAULT_REPORT = "migration-review-report.json"
MAX_COMMENT_CHARS = 65535
"""GitHub refuses a comment over 65,536 characters, a check run summary over 65,535."""
PR_TARGET_WARNING = (
    "this pull_request_target run reviews a fork's code with the base repository's token in the "
    "job: use the fork-safe set-up (mode: analyze on pull_request, mode: comment on "
    "workflow_run) instead."
)
CONTAINER_VARIABLE = "MIGRATION_REVIEW_CONTAINER"
"""Set by the action's image: the project's requirements go into a virtual environment of their
own there, where outside it the current interpreter is the project's."""


@dataclass(frozen=True)
class Settings:
    mode: str
    working_directory: Path
    report_path: Path
    check_run: bool
    settings_module: str | None = None
    install_command: str | None = None
    database_url: str | None = None
    pg_version: int | None = None
    fail_on: Risk | None = None
    config: Path | None = None
    template_dir: Path | None = None
    table_stats: str | None = None
    deploy: Deploy | None = None
    small_table_seconds: float | None = None
    cache_dir: Path | None = None
    sarif_path: Path | None = None
    timeout: float = TIMEOUT
    check_name: str = CHECK_NAME


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "action inputs", "Each overrides the INPUT_<NAME> variable the runner sets."
    )
    for name in INPUTS:
        if name != "github-token":  # a token on the command line shows in `ps`
            group.add_argument(f"--{name}", dest=name.replace("-", "_"), metavar="VALUE")
    where = parser.add_argument_group("event", "Override what the runner's variables say.")
    where.add_argument("--event-path", type=Path, help="Event payload (GITHUB_EVENT_PATH).")
    where.add_argument("--event-name", help="pull_request, workflow_run... (GITHUB_EVENT_NAME).")
    where.add_argument("--repository", help="OWNER/NAME (GITHUB_REPOSITORY).")
    where.add_argument("--api-url", help="REST API root (GITHUB_API_URL), GHES: .../api/v3.")
    where.add_argument("--pr", help="Pull request number, for events that carry none.")


def run(args: argparse.Namespace) -> int:
    """Review and publish; an error before there is a review to publish (a bad input, no event,
    no token, an unreadable report) still gives the step its outputs, with ``decision=error``,
    an error annotation and a line in the job summary, before the command exits 2."""
    try:
        return _run(args)
    except ReviewError as exc:
        message = format_error(exc.error)
        print(workflow.command("error", message, title="migration-review could not run"))
        workflow.append_summary(
            os.environ.get("GITHUB_STEP_SUMMARY"),
            "> [!CAUTION]\n> **migration-review could not run:** " + markdown.inline_text(message),
        )
        workflow.write_outputs(
            os.environ.get("GITHUB_OUTPUT"),
            {"risk": "", "findings": "", "decision": "error", "report-path": "", "comment-url": ""},
        )
        raise


def _run(args: argparse.Namespace) -> int:
    token = take_token(os.environ)
    restart_without_secrets(token)
    settings = read_settings(args, os.environ)
    event = read_event(
        os.environ,
        event_path=args.event_path,
        event_name=args.event_name,
        repository=args.repository,
        api_url=args.api_url,
    )
    if args.pr and pr_number(args.pr) != event.pull_request:
        event = replace(event, pull_request=pr_number(args.pr), base_sha=None, head_sha=None)
    if settings.mode != "analyze" and not token:
        raise ReviewError(
            f"mode {settings.mode} publishes to GitHub and needs a token",
            stage="publish",
            hint="the action passes the workflow's token by default (github-token input); "
            "outside Actions set GITHUB_TOKEN. `mode: analyze` needs none.",
        )
    if event.name == "pull_request_target" and event.from_fork and settings.mode != "comment":
        print(workflow.command("warning", PR_TARGET_WARNING, title="migration-review"))
    gh = connect(event.api_url, token) if token else None

    if settings.mode == "comment":
        report = load_report(settings.report_path)
    else:
        report = analyze(settings, event, gh)
    body, summary, template_dir = _render(report, settings.template_dir)
    if settings.mode != "comment":
        write_report(report, settings.report_path)
    if settings.sarif_path is not None:
        write_sarif(report, settings.sarif_path)
    if settings.cache_dir is not None:
        give_to_workspace_owner(settings.cache_dir)
    found = annotations(report)
    where = "the check run, " if settings.check_run and settings.mode != "analyze" else ""
    for line in workflow_annotations(found, elsewhere=f"{where}the job summary and the report"):
        print(line)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    workflow.append_summary(summary_path, summary)

    code = EXIT_CODES[report.decision]
    comment_url = ""
    if gh is not None and settings.mode != "analyze":
        check_summary = None
        if settings.check_run:
            check_summary = fit_bytes(
                lambda chars: render_markdown(
                    report, template_dir=template_dir, max_chars=min(chars, MAX_COMMENT_CHARS)
                )
            )
        outcome = publish(
            gh,
            event,
            report,
            body=body,
            title=_headline(body, report),
            found=found,
            check_run=settings.check_run,
            verify_head=settings.mode == "comment",
            check_summary=check_summary,
            check_name=settings.check_name,
        )
        _tell(outcome.warnings, "warning", "WARNING", summary_path)
        _tell(outcome.errors, "error", "CAUTION", summary_path)
        if outcome.errors and code == EXIT_PASS:
            code = EXIT_ERROR
        comment_url = outcome.comment_url or ""

    workflow.write_outputs(
        os.environ.get("GITHUB_OUTPUT"),
        {
            "risk": str(report.risk),
            "findings": str(sum(not f.ignored for f in report.findings)),
            "decision": report.decision,
            "report-path": str(settings.report_path),
            "comment-url": comment_url,
        },
    )
    where = f", review at {comment_url}" if comment_url else ""
    print(f"migration-review: {headline(report)}{where}")
    return code


def give_to_workspace_owner(path: Path) -> None:
    """The container runs as root; the runner, as the workspace's owner, must be able to cache,
    clean and replace what the review leaves in the workspace (the cache-dir)."""
    workspace = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    if os.geteuid() != 0 or not path.exists() or not path.resolve().is_relative_to(workspace):
        return
    owner = workspace.stat()
    os.lchown(path, owner.st_uid, owner.st_gid)
    for folder, folders, files in os.walk(path):  # symbolic links to folders are in folders
        for name in folders + files:
            os.lchown(os.path.join(folder, name), owner.st_uid, owner.st_gid)


def _tell(notes: list[str], level: workflow.Level, alert: str, summary_path: str | None) -> None:
    """Publishing problems: in the log as annotations, and under the review in the summary."""
    for note in notes:
        print(workflow.command(level, note, title="migration-review: publishing"))
        workflow.append_summary(summary_path, f"\n> [!{alert}]\n> {note}")


def read_settings(args: argparse.Namespace, env: Mapping[str, str]) -> Settings:
    """The inputs: a command-line flag wins over the runner's ``INPUT_*`` variable."""

    def value(name: str) -> str | None:
        flag = getattr(args, name.replace("-", "_"), None)
        return flag.strip() or None if isinstance(flag, str) else action_input(env, name)

    mode = value("mode") or "review"
    if mode not in MODES:
        raise _bad_input("mode", mode, "one of " + ", ".join(MODES))
    fail_on = value("fail-on")
    if fail_on is not None and fail_on not in Risk.__members__:
        raise _bad_input("fail-on", fail_on, "one of " + ", ".join(Risk.__members__))
    pg_version = value("pg-version")
    if pg_version is not None and not pg_version.isdigit():
        raise _bad_input("pg-version", pg_version, "a PostgreSQL major version such as 17")
    check_run = (value("check-run") or "false").lower()
    if check_run not in ("true", "false"):
        raise _bad_input("check-run", check_run, "true or false")
    deploy = value("deploy")
    if deploy is not None and deploy not in DEPLOYS:
        raise _bad_input("deploy", deploy, "rolling or downtime")
    small = value("small-table-seconds")
    try:
        small_table_seconds = float(small) if small is not None else None
    except ValueError:
        small_table_seconds = -1.0
    if small_table_seconds is not None and not 0 <= small_table_seconds < float("inf"):
        raise _bad_input("small-table-seconds", small or "", "a number of seconds such as 1")
    timeout = value("timeout")
    try:
        seconds_allowed = seconds(timeout) if timeout else TIMEOUT
    except argparse.ArgumentTypeError:
        raise _bad_input("timeout", timeout or "", "a positive number of seconds") from None
    config, template_dir, cache_dir = value("config"), value("template-dir"), value("cache-dir")
    sarif_path = value("sarif-path")
    return Settings(
        mode=mode,
        working_directory=Path(value("working-directory") or "."),
        report_path=Path(value("report-path") or DEFAULT_REPORT),
        check_run=check_run == "true",
        settings_module=value("settings-module"),
        install_command=value("install-command"),
        database_url=value("database-url"),
        pg_version=int(pg_version) if pg_version else None,
        fail_on=Risk(fail_on) if fail_on else None,
        config=Path(config) if config else None,
        template_dir=Path(template_dir) if template_dir else None,
        table_stats=value("table-stats"),
        deploy=deploy,  # type: ignore[arg-type]
        small_table_seconds=small_table_seconds,
        cache_dir=Path(cache_dir) if cache_dir else None,
        sarif_path=Path(sarif_path) if sarif_path else None,
        timeout=seconds_allowed,
        check_name=value("check-name") or CHECK_NAME,
    )


def _bad_input(name: str, value: str, expected: str) -> ReviewError:
    return ReviewError(
        f"input {name} is {value!r}: expected {expected}",
        stage="config",
        hint=f"fix `{name}:` under `with:` in the workflow (or --{name})",
    )


def analyze(settings: Settings, event: Event, gh: Github | None) -> Report:
    """Review the pull request's migrations (review and analyze modes)."""
    base, head = event.base_sha, event.head_sha
    if (not base or not head) and event.pull_request is not None and gh is not None:
        try:
            pull = gh.get_repo(event.repository).get_pull(event.pull_request)
            base, head = pull.base.sha, pull.head.sha
        except PublishFailure as exc:
            raise ReviewError(
                f"cannot read pull request #{event.pull_request}: {describe(exc)}",
                stage="diff",
                hint="check the pull request number and the token's read access",
            ) from exc
    if not base or not head:
        raise ReviewError(
            f"the {event.name} event names no pull request to review",
            stage="diff",
            hint="run on pull_request, or give a workflow_dispatch input `pr` (or --pr N)",
        )
    try:
        with _project_python(settings) as python:
            report = review(
                ReviewOptions(
                    repo=settings.working_directory,
                    base=base,
                    head=head,
                    python=python,
                    settings=settings.settings_module,
                    database_url=settings.database_url,
                    pg_version=settings.pg_version,
                    fail_on=settings.fail_on,
                    config=settings.config,
                    table_stats=settings.table_stats,
                    deploy=settings.deploy,
                    small_table_seconds=settings.small_table_seconds,
                    cache_dir=settings.cache_dir,
                    timeout=settings.timeout,
                )
            )
    except ReviewError as exc:  # preparing the interpreter: review() reports its own errors
        return _error_report(exc, event, base, head, settings)
    report.pull_request = event.pull_request
    return report


def _project_python(settings: Settings) -> AbstractContextManager[str | None]:
    """The project's interpreter: its own virtual environment (removed after) inside the
    action's container or when an install command is given, else the current one (None)."""
    if not settings.install_command and os.environ.get(CONTAINER_VARIABLE) != "1":
        return nullcontext(None)
    from bot.project_env import project_python

    return project_python(
        settings.working_directory, settings.install_command, cache_dir=settings.cache_dir
    )


def _error_report(
    exc: ReviewError, event: Event, base: str, head: str, settings: Settings
) -> Report:
    """The report of a review that could not start: it is published like any other."""
    report = Report(
        tool_version=__version__,
        pull_request=event.pull_request,
        base_sha=base,
        head_sha=head,
        errors=[exc.error],
        fail_on=settings.fail_on or DEFAULT_FAIL_ON,
    )
    decide(report)
    return report


def load_report(path: Path) -> Report:
    """The analyze half's report, its verdict decided again from its own content.

    The report comes from a run of the pull request's code: a ``decision`` that does not follow
    from the findings it lists is not taken on trust.
    """
    report = read_json_file(
        path,
        Report.model_validate_json,
        missing="the report to publish does not exist",
        missing_hint="download the analyze run's artifact first (actions/download-artifact with "
        "run-id: ${{ github.event.workflow_run.id }}) and point report-path at it",
        invalid="the report is not a migration-review JSON report",
        invalid_hint="publish a report written by `mode: analyze` of the same action version",
    )
    decide(report)
    return report


def write_report(report: Report, path: Path) -> None:
    _write(path, report.model_dump_json(indent=2) + "\n", what="the report", setting="report-path")


def write_sarif(report: Report, path: Path) -> None:
    """The SARIF file for github/codeql-action/upload-sarif (code scanning)."""
    _write(path, sarif_json(report), what="the SARIF file", setting="sarif-path")


def _write(path: Path, text: str, *, what: str, setting: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReviewError(
            f"cannot write {what}: {exc}",
            stage="publish",
            file=str(path),
            hint=f"set {setting} to a writable place in the workspace",
        ) from exc


def _render(report: Report, template_dir: Path | None) -> tuple[str, str, Path | None]:
    """The comment (cut to GitHub's limit), the job summary (the whole review), and the
    templates that rendered them.

    A broken custom template is an error of the run, not a reason to lose the review: it is
    added to the report and the bundled templates render it.
    """
    try:
        summary = render_markdown(report, template_dir=template_dir)
    except ReviewError as exc:
        report.errors.append(exc.error)
        decide(report)
        template_dir = None
        summary = render_markdown(report)
    if len(summary.encode()) > workflow.SUMMARY_LIMIT_BYTES:
        summary = render_markdown(
            report, template_dir=template_dir, max_chars=workflow.SUMMARY_LIMIT_BYTES // 4
        )
    body = render_markdown(report, template_dir=template_dir, max_chars=MAX_COMMENT_CHARS)
    return body, summary, template_dir


def workflow_annotations(found: list[Annotation], *, elsewhere: str) -> list[str]:
    """The ``::error``/``::warning``/``::notice`` lines: GitHub shows at most 10 of each level
    per step and drops the rest silently, so an overflowing level's tenth line says how many
    more there are, and where they are."""
    lines = []
    for level in ("failure", "warning", "notice"):
        command = WORKFLOW_LEVEL[level]
        of_level = [a for a in found if a.level == level]
        shown = (
            of_level
            if len(of_level) <= workflow.MAX_PER_LEVEL
            else of_level[: workflow.MAX_PER_LEVEL - 1]
        )
        for a in shown:
            lines.append(
                workflow.command(command, a.message, file=a.file, line=a.line, title=a.title)
            )
        if len(shown) < len(of_level):
            more = len(of_level) - len(shown)
            lines.append(
                workflow.command(
                    command,
                    f"{more} more {command} annotations are not shown here: GitHub shows "
                    f"{workflow.MAX_PER_LEVEL} per step. All {len(of_level)} are in {elsewhere}.",
                    title=f"migration-review: {more} more",
                )
            )
    return lines


def _headline(body: str, report: Report) -> str:
    """The check run's title: the comment's headline, without its Markdown."""
    for line in body.splitlines():
        if line.startswith("#"):
            return line.lstrip("# ").strip()
    return f"Migration review: {report.decision} (risk {report.risk})"
