"""Publishing to GitHub: PyGithub, unpatched, against the fake GitHub API on 127.0.0.1.

The publishing cases use small constructed Reports (they are about what GitHub sees, not about
the review); the cases that need a review run the real pipeline end to end through the
``github`` command (see ``test_github_action.py``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.github.annotations import annotations
from bot.github.checks import ANNOTATIONS_PER_REQUEST
from bot.github.client import connect
from bot.github.event import Event
from bot.github.publish import FORK_HINT, Outcome, publish
from bot.models import (
    ChangeKind,
    Finding,
    Lock,
    MigrationFile,
    MigrationReview,
    Report,
    Risk,
    StatementReview,
    Verdict,
)
from bot.render import COMMENT_MARKER, render_markdown
from tests.fakegithub import MAX_COMMENT_CHARS, SECONDARY_RATE_LIMIT, FakeGitHub

REPO = "acme/shop"
TOKEN = "ghs_fakeTokenThatMustNeverLeak0123456789"
PR = 7
BASE, HEAD = "b" * 40, "c" * 40
BOT = "github-actions[bot]"


# --- small constructed reports ------------------------------------------------------------------


def make_migration(
    name: str, *, findings: int = 1, risk: Risk = Risk.high, sql_lines: int = 1
) -> MigrationReview:
    path = f"shop/migrations/{name}.py"
    verdict = Verdict(
        source="static",
        locks=[Lock(relation="shop_order", mode="ShareLock", blocks="writes")],
        blocks="writes",
        risk=risk,
        rules=["MR-LOCK-INDEX"],
    )
    sql = "\n".join(
        f'CREATE INDEX "shop_order_col{i}_idx" ON "shop_order" ("col{i}");'
        for i in range(sql_lines)
    )
    return MigrationReview(
        app_label="shop",
        name=name,
        file=path,
        change=ChangeKind.added,
        atomic=True,
        statements=[StatementReview(index=0, sql=sql, static=verdict, final=verdict)],
        sqlmigrate=f"BEGIN;\n{sql}\nCOMMIT;",
        findings=[
            Finding(
                rule="MR-LOCK-INDEX",
                risk=risk,
                title=f"CREATE INDEX blocks writes to shop_order ({i})",
                message="CREATE INDEX holds a SHARE lock for the whole build.",
                safer="Use `AddIndexConcurrently` in a migration with `atomic = False`.",
                migration=f"shop.{name}",
                statement=0,
                file=path,
                line=10 + i,
            )
            for i in range(findings)
        ],
        risk=risk,
    )


def make_report(migrations: list[MigrationReview], *, fail_on: Risk = Risk.high) -> Report:
    risk = Risk.worst([m.risk for m in migrations])
    return Report(
        tool_version="0.1.0",
        repo=".",
        pull_request=PR,
        base_sha=BASE,
        head_sha=HEAD,
        files=[MigrationFile(path=m.file, change=m.change) for m in migrations],
        migrations=migrations,
        risk=risk,
        fail_on=fail_on,
        decision="fail" if migrations and risk >= fail_on else "pass",
    )


def pr_event(fake: FakeGitHub, *, head_repository: str = REPO) -> Event:
    return Event(
        name="pull_request",
        repository=REPO,
        api_url=fake.url,
        pull_request=PR,
        base_sha=BASE,
        head_sha=HEAD,
        head_repository=head_repository,
    )


def post(
    fake: FakeGitHub,
    report: Report,
    *,
    check_run: bool = False,
    event: Event | None = None,
    backoff_factor: float = 1.0,
    timeout: int = 15,
) -> Outcome:
    body = render_markdown(report, max_chars=65535)
    return publish(
        connect(fake.url, TOKEN, backoff_factor=backoff_factor, timeout=timeout),
        event or pr_event(fake),
        report,
        body=body,
        title="Migration review",
        found=annotations(report),
        check_run=check_run,
        verify_head=False,
    )


@pytest.fixture
def fake():
    with FakeGitHub(repo=REPO, token=TOKEN, login=BOT) as server:
        yield server


# --- the sticky comment ---------------------------------------------------------------------------


def test_first_review_creates_one_comment_with_the_marker(fake: FakeGitHub) -> None:
    report = make_report([make_migration("0002_order_status_index")])

    outcome = post(fake, report)

    [comment] = fake.comments_on(PR)
    assert comment["login"] == BOT
    assert comment["body"].startswith(COMMENT_MARKER)
    assert "shop.0002_order_status_index" in comment["body"]
    assert outcome.comment_url == fake.comment_json(comment)["html_url"]
    assert outcome.errors == outcome.warnings == []
    assert all(r["authorization"] == f"token {TOKEN}" for r in fake.requests)
    # The token's own login came from GraphQL's viewer (an installation token gets 403 on /user).
    assert fake.requests[0]["path"] == "/graphql"


def test_the_comment_is_updated_in_place_even_when_it_is_on_the_third_page(
    fake: FakeGitHub,
) -> None:
    for i in range(230):
        fake.add_comment(PR, f"comment {i}", login=f"reviewer{i % 3}")
    own = fake.add_comment(PR, f"{COMMENT_MARKER}\nan earlier review")
    for i in range(10):
        fake.add_comment(PR, f"later comment {i}", login="reviewer1")
    report = make_report([make_migration("0002_order_status_index")])

    post(fake, report)

    assert not [r for r in fake.writes() if r["method"] == "POST"]
    [edit] = [r for r in fake.writes() if r["method"] == "PATCH"]
    assert edit["path"] == f"/repos/{REPO}/issues/comments/{own}"
    assert "shop.0002_order_status_index" in fake.comments[own]["body"]
    pages = [r["query"].get("page") for r in fake.requests if r["path"].endswith(f"/{PR}/comments")]
    assert pages == [None, "2", "3"]
    assert len(fake.comments_on(PR)) == 241


def test_a_marker_in_another_users_comment_is_ignored(fake: FakeGitHub) -> None:
    theirs = fake.add_comment(PR, f"{COMMENT_MARKER}\nquoting the bot", login="mallory")
    report = make_report([make_migration("0002_order_status_index")])

    post(fake, report)

    assert fake.comments[theirs]["body"] == f"{COMMENT_MARKER}\nquoting the bot"
    mine = [c for c in fake.comments_on(PR) if c["login"] == BOT]
    assert len(mine) == 1 and mine[0]["id"] != theirs


def test_a_personal_token_finds_its_own_comments_by_its_login(fake: FakeGitHub) -> None:
    fake.login = "release-bot-user"
    own = fake.add_comment(PR, f"{COMMENT_MARKER}\nold", login="release-bot-user")
    fake.add_comment(PR, f"{COMMENT_MARKER}\nnot mine", login=BOT)

    post(fake, make_report([make_migration("0002_x")]))

    assert "shop.0002_x" in fake.comments[own]["body"]
    assert len(fake.comments_on(PR)) == 2


def test_too_long_a_review_is_shortened_to_fit_and_says_where_the_rest_is(
    fake: FakeGitHub,
) -> None:
    report = make_report(
        [make_migration(f"{i:04d}_many_indexes", findings=3, sql_lines=60) for i in range(40)]
    )
    full = render_markdown(report)
    assert len(full) > MAX_COMMENT_CHARS  # the case is real

    post(fake, report)

    [comment] = fake.comments_on(PR)
    assert len(comment["body"]) <= MAX_COMMENT_CHARS
    assert comment["body"].startswith(COMMENT_MARKER)
    assert "job summary and the JSON report" in comment["body"]
    # The decision survives the cut: every migration's finding is still named.
    assert all(f"shop.{i:04d}_many_indexes" in comment["body"] for i in range(40))


def test_a_pull_request_without_migration_changes_updates_the_old_review(
    fake: FakeGitHub,
) -> None:
    own = fake.add_comment(PR, f"{COMMENT_MARKER}\n🔴 2 high-risk statements")

    outcome = post(fake, make_report([]))

    body = fake.comments[own]["body"]
    assert "no migration changes" in body and "high-risk" not in body
    assert outcome.comment_url and outcome.comment_url.endswith(f"#issuecomment-{own}")
    assert len(fake.comments_on(PR)) == 1


def test_a_pull_request_that_never_had_migration_changes_gets_no_comment(
    fake: FakeGitHub,
) -> None:
    fake.add_comment(PR, "LGTM", login="reviewer")

    outcome = post(fake, make_report([]))

    assert fake.writes() == []
    assert outcome.comment_url is None and outcome.errors == []


# --- failures -------------------------------------------------------------------------------------


def test_a_forks_read_only_token_is_a_warning_with_the_fork_mode_hint(fake: FakeGitHub) -> None:
    fake.read_only = True
    report = make_report([make_migration("0002_x")])

    outcome = post(fake, report, check_run=True, event=pr_event(fake, head_repository="eve/shop"))

    assert outcome.errors == []
    assert len(outcome.warnings) == 2  # the comment and the check run
    assert all("403" in w and FORK_HINT in w for w in outcome.warnings)
    assert fake.comments_on(PR) == [] and fake.check_runs == {}
    # A permission refusal is not retried.
    assert len([r for r in fake.requests if r["method"] == "POST" and "comments" in r["path"]]) == 1


def test_a_502_is_retried_and_the_comment_posted_once(fake: FakeGitHub) -> None:
    fake.fail("POST", r"/issues/\d+/comments$", 502)
    fake.fail("GET", r"/issues/\d+/comments$", 502, times=2)

    outcome = post(fake, make_report([make_migration("0002_x")]))

    assert len(fake.comments_on(PR)) == 1
    assert outcome.errors == [] and outcome.comment_url
    posts = [r for r in fake.requests if r["method"] == "POST" and "comments" in r["path"]]
    assert len(posts) == 2


def test_a_secondary_rate_limit_is_waited_out_as_retry_after_says(fake: FakeGitHub) -> None:
    fake.add_comment(PR, f"{COMMENT_MARKER}\nold")
    fake.fail(
        "PATCH",
        r"/issues/comments/",
        403,
        message=SECONDARY_RATE_LIMIT,
        headers={"Retry-After": "1"},
    )
    fake.fail(
        "POST", r"/check-runs$", 429, message=SECONDARY_RATE_LIMIT, headers={"Retry-After": "1"}
    )
    started = time.monotonic()

    outcome = post(fake, make_report([make_migration("0002_x")]), check_run=True)

    assert outcome.errors == outcome.warnings == []
    assert time.monotonic() - started >= 2  # both waits were honoured
    assert [r["method"] for r in fake.writes()] == ["PATCH", "PATCH", "POST", "POST"]
    assert len(fake.check_runs) == 1


def test_a_comment_created_but_answered_too_late_is_found_not_posted_twice(
    fake: FakeGitHub,
) -> None:
    fake.answer_late("POST", r"/issues/\d+/comments$", 3)

    first = post(fake, make_report([make_migration("0002_x")]), timeout=1)

    assert first.errors == [] and first.comment_url
    [comment] = fake.comments_on(PR)
    posts = [r for r in fake.requests if r["method"] == "POST" and "comments" in r["path"]]
    assert len(posts) == 1, "a POST that may have succeeded is never sent again blindly"
    # The next run updates that one comment.
    post(fake, make_report([make_migration("0003_y")]))
    [updated] = fake.comments_on(PR)
    assert updated["id"] == comment["id"] and "0003_y" in updated["body"]


def test_github_down_after_the_retries_is_an_error_not_a_warning(fake: FakeGitHub) -> None:
    fake.fail("POST", r"/issues/\d+/comments$", 503, times=100)

    outcome = post(fake, make_report([make_migration("0002_x")]), backoff_factor=0.01)

    posts = [r for r in fake.requests if r["method"] == "POST" and "comments" in r["path"]]
    assert len(posts) == 3  # each after reading the comments again, then it gives up
    assert outcome.warnings == [] and len(outcome.errors) == 1
    assert "review comment" in outcome.errors[0]
    assert TOKEN not in outcome.errors[0]


def test_github_enterprise_serves_the_api_under_api_v3(fake: FakeGitHub) -> None:
    with FakeGitHub(repo=REPO, token=TOKEN, login=BOT, prefix="/api/v3") as ghes:
        outcome = post(ghes, make_report([make_migration("0002_x")]), check_run=True)

        assert ghes.url.endswith("/api/v3")
        assert len(ghes.comments_on(PR)) == 1 and len(ghes.check_runs) == 1
        assert outcome.errors == outcome.warnings == []
        paths = [r["path"] for r in ghes.requests]
        assert "/api/graphql" in paths
        assert all(p.startswith("/api/v3/") or p == "/api/graphql" for p in paths)


# --- the check run --------------------------------------------------------------------------------


def test_the_check_run_carries_every_annotation_in_batches_of_50(fake: FakeGitHub) -> None:
    migrations = [make_migration(f"{i:04d}_idx", findings=20) for i in range(6)]
    migrations.append(make_migration("0100_small", findings=2, risk=Risk.medium))
    report = make_report(migrations)

    outcome = post(fake, report, check_run=True)

    [run] = fake.check_runs.values()
    assert run["head_sha"] == HEAD
    assert run["status"] == "completed" and run["conclusion"] == "failure"
    assert run["output"]["title"] == "Migration review"
    assert COMMENT_MARKER in run["output"]["summary"]
    assert len(run["annotations"]) == 122
    sizes = [
        len(r["json"]["output"]["annotations"])
        for r in fake.requests
        if "check-runs" in r["path"] and r["method"] in ("POST", "PATCH")
    ]
    assert sizes == [50, 50, 22] and max(sizes) <= ANNOTATIONS_PER_REQUEST
    first = run["annotations"][0]
    assert first["annotation_level"] == "failure"
    assert first["path"] == "shop/migrations/0000_idx.py" and first["start_line"] == 10
    assert {a["annotation_level"] for a in run["annotations"][-2:]} == {"warning"}
    assert outcome.check_run_url and outcome.check_run_url.endswith(f"/runs/{run['id']}")


def test_a_passing_review_concludes_the_check_run_with_success(fake: FakeGitHub) -> None:
    report = make_report([make_migration("0002_x", risk=Risk.low)])

    post(fake, report, check_run=True)

    [run] = fake.check_runs.values()
    assert run["conclusion"] == "success"
    assert [a["annotation_level"] for a in run["annotations"]] == ["notice"]


# --- the fake server on its own, as the container smoke test runs it ---------------------------


def test_the_fake_runs_standalone_and_keeps_its_state_in_a_file(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("fakegithub.py")),
            "--port=0",
            f"--state={state}",
            f"--repo={REPO}",
            f"--pull={PR}:{BASE}:{HEAD}",
            f"--comment={PR}:{BOT}:{COMMENT_MARKER} old review",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        gh = connect(url, TOKEN)
        assert gh.get_repo(REPO).get_pull(PR).head.sha == HEAD
        event = Event(name="workflow_run", repository=REPO, api_url=url, run_head_sha=HEAD)
        outcome = publish(
            gh,
            event,
            make_report([make_migration("0002_x")]),
            body=f"{COMMENT_MARKER}\nnew review",
            title="t",
            found=[],
            check_run=False,
            verify_head=True,
        )
        assert outcome.errors == [] and outcome.comment_url
    finally:
        server.terminate()
        server.wait(timeout=10)
    saved = json.loads(state.read_text())
    [comment] = saved["comments"]
    assert comment["body"] == f"{COMMENT_MARKER}\nnew review"
    assert any(r["method"] == "PATCH" for r in saved["requests"])
