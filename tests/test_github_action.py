"""``migration-review github`` end to end, as the runner runs it: the event file, ``INPUT_*``
variables, ``GITHUB_OUTPUT`` and ``GITHUB_STEP_SUMMARY``, against the fake GitHub API.

The review-mode cases run the real pipeline on the demo project (a throwaway git repository, an
embedded PostgreSQL); the comment-mode cases publish reports made by hand.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.github.event import Event, action_input, read_event
from bot.models import Report, Risk
from bot.render import COMMENT_MARKER
from tests.fakegithub import FakeGitHub
from tests.test_github import BASE, BOT, HEAD, PR, REPO, TOKEN, make_migration, make_report

RUNNER_VARIABLES = (
    "GITHUB_EVENT_PATH",
    "GITHUB_EVENT_NAME",
    "GITHUB_REPOSITORY",
    "GITHUB_API_URL",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "MIGRATION_REVIEW_CONTAINER",
)


class Runner:
    """The Actions runner, as far as a container action can tell."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> None:
        self.tmp, self.monkeypatch, self.fake = tmp, monkeypatch, fake
        for name in RUNNER_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name in [n for n in os.environ if n.startswith("INPUT_")]:
            monkeypatch.delenv(name)
        monkeypatch.chdir(tmp)
        self.output, self.summary_file = tmp / "output.txt", tmp / "summary.md"
        for name, value in {
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": fake.url,
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary_file),
            "INPUT_GITHUB-TOKEN": TOKEN,
        }.items():
            monkeypatch.setenv(name, value)

    def event(self, name: str, payload: dict) -> None:
        path = self.tmp / "event.json"
        path.write_text(json.dumps(payload))
        self.monkeypatch.setenv("GITHUB_EVENT_NAME", name)
        self.monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))

    def inputs(self, **inputs: str) -> None:
        for name, value in inputs.items():
            self.monkeypatch.setenv(f"INPUT_{name.replace('_', '-').upper()}", value)

    def run(self, *args: str) -> int:
        return main(["github", *args])

    def outputs(self) -> dict[str, str]:
        text = self.output.read_text()
        return {
            m[1]: m[3]
            for m in re.finditer(r"^([a-z-]+)<<(\S+)\n(.*?)\n?\2$", text, flags=re.M | re.S)
        }

    def summary(self) -> str:
        return self.summary_file.read_text()


def pull_request_payload(*, head_repo: str = REPO, base: str = BASE, head: str = HEAD) -> dict:
    def repo(full_name: str) -> dict:
        return {"full_name": full_name, "name": full_name.split("/")[1]}

    return {
        "action": "synchronize",
        "number": PR,
        "pull_request": {
            "number": PR,
            "base": {"ref": "main", "sha": base, "repo": repo(REPO)},
            "head": {"ref": "feature", "sha": head, "repo": repo(head_repo)},
        },
        "repository": repo(REPO),
    }


def workflow_run_payload(head: str = HEAD, pull_requests: list[int] | None = None) -> dict:
    return {
        "action": "completed",
        "workflow_run": {
            "id": 30433642,
            "event": "pull_request",
            "conclusion": "failure",
            "head_sha": head,
            "head_repository": {"full_name": "eve/shop"},
            "pull_requests": [
                {"number": n, "head": {"sha": head}, "base": {"sha": BASE}}
                for n in pull_requests or []
            ],
        },
        "repository": {"full_name": REPO},
    }


@pytest.fixture
def fake():
    with FakeGitHub(repo=REPO, token=TOKEN, login=BOT) as server:
        server.add_pull(PR, BASE, HEAD, head_repo="eve/shop")
        yield server


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeGitHub) -> Runner:
    return Runner(tmp_path, monkeypatch, fake)


# --- reading the event and the inputs ----------------------------------------------------------


def test_inputs_are_read_with_the_runners_spelling_dashes_kept() -> None:
    env = {"INPUT_FAIL-ON": " medium ", "INPUT_CHECK-RUN": "", "INPUT_MODE": "analyze"}
    assert action_input(env, "fail-on") == "medium"
    assert action_input(env, "check-run") is None
    assert action_input(env, "mode") == "analyze"
    assert action_input({"INPUT_FAIL_ON": "low"}, "fail-on") == "low"


def test_each_event_gives_the_pull_request_and_its_commits(tmp_path: Path) -> None:
    def read(name: str, payload: dict, **env: str) -> Event:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(payload))
        return read_event(
            {"GITHUB_EVENT_PATH": str(path), "GITHUB_EVENT_NAME": name, **env},
            repository=REPO,
        )

    fork = read("pull_request", pull_request_payload(head_repo="eve/shop"))
    assert (fork.pull_request, fork.base_sha, fork.head_sha) == (PR, BASE, HEAD)
    assert fork.from_fork and fork.api_url == "https://api.github.com"
    target = read("pull_request_target", pull_request_payload(), GITHUB_API_URL="https://h/api/v3/")
    assert not target.from_fork and target.api_url == "https://h/api/v3"
    run = read("workflow_run", workflow_run_payload())
    assert run.pull_request is None and run.run_head_sha == HEAD and not run.from_fork
    same_repo_run = read("workflow_run", workflow_run_payload(pull_requests=[PR]))
    assert same_repo_run.pull_request == PR and same_repo_run.base_sha == BASE
    dispatch = read("workflow_dispatch", {"inputs": {"pr": "#12"}})
    assert dispatch.pull_request == 12 and dispatch.head_sha is None


def test_a_missing_event_file_is_named_with_what_to_do(runner: Runner, capsys) -> None:
    runner.monkeypatch.setenv("GITHUB_EVENT_PATH", str(runner.tmp / "nope.json"))
    assert runner.run() == 2
    err = capsys.readouterr().err
    assert "nope.json: the event file does not exist" in err and "hint:" in err


def test_a_bad_input_is_named_with_what_it_should_be(runner: Runner, capsys) -> None:
    runner.event("pull_request", pull_request_payload())
    runner.inputs(fail_on="hihg")
    assert runner.run() == 2
    assert "input fail-on is 'hihg': expected one of safe, low" in capsys.readouterr().err


@pytest.mark.parametrize("problem", ["bad input", "no event file", "no token"])
def test_an_error_before_the_review_still_sets_decision_error(
    runner: Runner, capsys, problem: str
) -> None:
    runner.event("pull_request", pull_request_payload())
    if problem == "bad input":
        runner.inputs(timeout="soon")
    elif problem == "no event file":
        runner.monkeypatch.setenv("GITHUB_EVENT_PATH", str(runner.tmp / "nope.json"))
    else:
        runner.monkeypatch.delenv("INPUT_GITHUB-TOKEN")

    assert runner.run() == 2

    assert runner.outputs()["decision"] == "error"
    assert "migration-review could not run" in runner.summary()
    assert "::error title=migration-review could not run::" in capsys.readouterr().out


# --- comment mode: publishing a report from the analyze half -------------------------------------


def write_report(runner: Runner, report: Report) -> Path:
    path = runner.tmp / "migration-review-report.json"
    path.write_text(report.model_dump_json())
    return path


def test_comment_mode_posts_the_report_and_sets_the_status(runner: Runner, fake, capsys) -> None:
    report = make_report([make_migration("0005_order_status_index")], fail_on=Risk.high)
    write_report(runner, report)
    runner.event("workflow_run", workflow_run_payload())
    runner.inputs(mode="comment", check_run="true")

    code = runner.run()

    assert code == 1  # the report's verdict: a high-risk finding, fail-on high
    [comment] = fake.comments_on(PR)
    assert comment["body"].startswith(COMMENT_MARKER)
    assert "shop.0005_order_status_index" in comment["body"]
    [run] = fake.check_runs.values()
    assert run["head_sha"] == HEAD and run["conclusion"] == "failure"
    assert run["output"]["title"].startswith("🔴 Migration review")
    outputs = runner.outputs()
    assert outputs == {
        "risk": "high",
        "findings": "1",
        "decision": "fail",
        "report-path": "migration-review-report.json",
        "comment-url": fake.comment_json(comment)["html_url"],
    }
    assert "shop.0005_order_status_index" in runner.summary()
    out = capsys.readouterr().out
    assert "::error file=shop/migrations/0005_order_status_index.py,line=10," in out
    assert TOKEN not in out


def test_comment_mode_refuses_a_report_for_another_commit(runner: Runner, fake, capsys) -> None:
    """A fork's analyze run could write any report; the run's head commit is GitHub's word."""
    report = make_report([make_migration("0002_x", risk=Risk.low)])
    write_report(runner, report)
    runner.event("workflow_run", workflow_run_payload(head="d" * 40))
    runner.inputs(mode="comment")

    code = runner.run()

    assert code == 2  # the review passed, but it could not be published: the step fails
    assert fake.writes() == []
    out = capsys.readouterr().out
    assert "::error" in out and "the report is for commit cccccccccccc" in out
    assert runner.outputs()["decision"] == "pass" and runner.outputs()["comment-url"] == ""


def test_comment_mode_decides_the_verdict_from_the_reports_findings(runner: Runner, fake) -> None:
    """A report whose decision says pass over a high-risk finding is not taken at its word."""
    forged = make_report([make_migration("0005_order_status_index")], fail_on=Risk.high)
    forged.decision, forged.risk = "pass", Risk.safe
    write_report(runner, forged)
    runner.event("workflow_run", workflow_run_payload())
    runner.inputs(mode="comment", check_run="true")

    assert runner.run() == 1
    [run] = fake.check_runs.values()
    assert run["conclusion"] == "failure"
    assert runner.outputs()["decision"] == "fail" and runner.outputs()["risk"] == "high"


def test_a_broken_custom_template_is_an_error_and_the_review_still_posted(
    runner: Runner, fake, capsys
) -> None:
    templates = runner.tmp / "templates"
    templates.mkdir()
    (templates / "headline.md.j2").write_text("## {{ report.risk \n")
    write_report(runner, make_report([make_migration("0002_x", risk=Risk.low)]))
    runner.event("workflow_run", workflow_run_payload())
    runner.inputs(mode="comment", template_dir=str(templates))

    assert runner.run() == 2
    [comment] = fake.comments_on(PR)
    assert "Migration review failed" in comment["body"] and "headline.md.j2" in comment["body"]
    assert "shop.0002_x" in comment["body"]  # the review itself is all there
    assert runner.outputs()["decision"] == "error"


def test_comment_mode_leaves_a_pull_request_that_moved_on_to_the_newer_run(
    runner: Runner, fake, capsys
) -> None:
    fake.add_pull(PR, BASE, "e" * 40, head_repo="eve/shop")
    write_report(runner, make_report([make_migration("0002_x")]))
    runner.event("workflow_run", workflow_run_payload())
    runner.inputs(mode="comment", check_run="true")

    code = runner.run()

    assert code == 1
    assert fake.comments_on(PR) == []
    [run] = fake.check_runs.values()  # the check still reports on the commit it reviewed
    assert run["head_sha"] == HEAD
    assert "has moved on to eeeeeeeeeeee" in capsys.readouterr().out


def test_comment_mode_without_the_artifact_says_how_to_get_it(runner: Runner, capsys) -> None:
    runner.event("workflow_run", workflow_run_payload())
    runner.inputs(mode="comment")
    assert runner.run() == 2
    err = capsys.readouterr().err
    assert "migration-review-report.json: the report to publish does not exist" in err
    assert "download-artifact" in err


def test_publishing_needs_a_token(runner: Runner, capsys) -> None:
    runner.monkeypatch.delenv("INPUT_GITHUB-TOKEN")
    runner.event("workflow_run", workflow_run_payload())
    runner.inputs(mode="comment")
    assert runner.run() == 2
    assert "mode comment publishes to GitHub and needs a token" in capsys.readouterr().err


# --- review and analyze modes: the real pipeline on the demo project ------------------------------


@pytest.fixture(scope="module")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    from bot.demo import build_repository

    repo = tmp_path_factory.mktemp("demo") / "project"
    base, head = build_repository(repo)
    return repo, base, head


RUNTIME_TOKEN = "actions-runtime-secret-4242"
SPY = """
import json as _json, os as _os, sys as _sys


def _lineage():
    pid, found = _os.getpid(), []
    while pid > 1:
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
        found.append({"pid": pid, "environ": environ, "cmdline": cmdline})
        pid = parent
    return found


with open(SEEN, "a") as _f:
    _seen = {"env": dict(_os.environ), "argv": _sys.argv, "lineage": _lineage()}
    _f.write(_json.dumps(_seen) + "\\n")
"""


def spy_on_the_collector(repo: Path, seen: Path) -> str:
    """Commit a settings module that records what the pull request's code can read.

    Django imports the settings in the collector process only. Besides its own environment and
    arguments, a process can read the start-up environment and command line of every process
    of the same user above it (``/proc/<pid>/environ``): the spy records those too.
    """
    settings = repo / "demo" / "settings.py"
    settings.write_text(settings.read_text() + SPY.replace("SEEN", repr(str(seen))))
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "commit", "-qam", "spy"], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_review_mode_posts_the_demo_review_and_the_token_never_reaches_pr_code(
    runner: Runner, fake, demo_repo, pg_bin, tmp_path: Path
) -> None:
    """Run as the container runs it: a process that starts with the token in its environment."""
    repo, base, _ = demo_repo
    seen = tmp_path / "collector-env.jsonl"
    head = spy_on_the_collector(repo, seen)
    runner.monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    runner.monkeypatch.setenv("ACTIONS_RUNTIME_TOKEN", RUNTIME_TOKEN)  # the runner's own secret
    runner.event("pull_request", pull_request_payload(base=base, head=head))
    runner.inputs(working_directory=str(repo), fail_on="high")

    done = subprocess.run(
        [sys.executable, "-m", "bot", "github"],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 1, done.stderr  # the demo holds high-risk migrations on purpose
    report = Report.model_validate_json((tmp_path / "migration-review-report.json").read_text())
    assert report.pull_request == PR and report.head_sha == head and report.errors == []
    [comment] = fake.comments_on(PR)
    assert comment["login"] == BOT
    for migration in report.migrations:
        assert migration.label in comment["body"]
    assert runner.outputs()["decision"] == "fail" and runner.outputs()["risk"] == str(report.risk)
    assert "::error file=shop/migrations/0005_order_status_index.py" in done.stdout
    # The collector ran (it loaded the settings), and nothing it can read holds the token:
    # not its environment, not its arguments, not the start-up environment of the bot above it.
    loads = [json.loads(line) for line in seen.read_text().splitlines()]
    assert loads
    for load in loads:
        assert not {"GITHUB_TOKEN", "INPUT_GITHUB-TOKEN"} & set(load["env"])
        assert any("github" in p["cmdline"] for p in load["lineage"])  # the bot is in it
        assert TOKEN not in json.dumps(load) and RUNTIME_TOKEN not in json.dumps(load)
    assert TOKEN not in done.stdout + done.stderr
    assert TOKEN not in (tmp_path / "migration-review-report.json").read_text()


def test_a_forks_read_only_token_keeps_the_verdict_and_says_how_to_enable_fork_mode(
    runner: Runner, fake, demo_repo, pg_bin, tmp_path: Path, capsys
) -> None:
    repo, base, head = demo_repo
    fake.read_only = True
    runner.event("pull_request", pull_request_payload(head_repo="eve/shop", base=base, head=head))
    runner.inputs(working_directory=str(repo), fail_on="critical", check_run="true")

    code = runner.run()

    report = Report.model_validate_json((tmp_path / "migration-review-report.json").read_text())
    assert report.decision == "pass" and code == 0  # the 403 alone does not fail the check
    assert fake.comments_on(PR) == [] and fake.check_runs == {}
    out = capsys.readouterr().out
    assert "::warning" in out and "fork-safe set-up" in out and "mode: analyze" in out
    summary = runner.summary()
    assert "shop.0005_order_status_index" in summary and "fork-safe set-up" in summary
    assert runner.outputs()["comment-url"] == ""


def test_analyze_mode_needs_no_token_and_writes_the_report_for_the_comment_half(
    runner: Runner, fake, demo_repo, pg_bin, tmp_path: Path
) -> None:
    repo, base, head = demo_repo
    runner.monkeypatch.delenv("INPUT_GITHUB-TOKEN")
    runner.event("pull_request", pull_request_payload(head_repo="eve/shop", base=base, head=head))
    runner.inputs(
        mode="analyze",
        working_directory=str(repo),
        report_path="out/report.json",
        sarif_path="out/review.sarif",
    )

    code = runner.run()

    assert fake.requests == []
    report = Report.model_validate_json((tmp_path / "out" / "report.json").read_text())
    assert (report.pull_request, report.base_sha, report.head_sha) == (PR, base, head)
    sarif = json.loads((tmp_path / "out" / "review.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == [f.rule for f in report.findings]
    assert sarif["runs"][0]["versionControlProvenance"][0]["revisionId"] == head
    assert code == {"pass": 0, "fail": 1, "error": 2}[report.decision]
    assert runner.outputs()["report-path"] == "out/report.json"


def test_workflow_dispatch_asks_the_api_for_the_pull_requests_commits(
    runner: Runner, fake, demo_repo, pg_bin, tmp_path: Path
) -> None:
    repo, base, head = demo_repo
    fake.add_pull(12, base, head)
    runner.event("workflow_dispatch", {"inputs": {"pr": "12"}})
    runner.inputs(working_directory=str(repo), fail_on="critical")

    assert runner.run() == 0
    report = Report.model_validate_json((tmp_path / "migration-review-report.json").read_text())
    assert (report.pull_request, report.base_sha, report.head_sha) == (12, base, head)
    assert len(fake.comments_on(12)) == 1


def test_a_failing_install_command_is_an_error_review_and_never_sees_the_token(
    runner: Runner, fake, demo_repo, tmp_path: Path, capsys
) -> None:
    repo, base, head = demo_repo
    seen = tmp_path / "install-env.txt"
    runner.monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    runner.monkeypatch.setenv("TOKEN_COPY", TOKEN + "\n")
    runner.monkeypatch.setenv("PIP_INDEX_URL", f"https://x-access-token:{TOKEN}@pypi.example/")
    runner.event("pull_request", pull_request_payload(base=base, head=head))
    runner.inputs(working_directory=str(repo), install_command=f"env > {seen}; exit 3")

    code = runner.run()

    assert code == 2
    assert TOKEN not in seen.read_text() and "PATH=" in seen.read_text()
    [venv] = re.findall(r"^VIRTUAL_ENV=(.*)$", seen.read_text(), flags=re.M)
    assert not Path(venv).exists(), "the project's virtual environment is removed"
    [comment] = fake.comments_on(PR)
    assert "Migration review failed" in comment["body"] and "exit code 3" in comment["body"]
    assert runner.outputs()["decision"] == "error"
    assert TOKEN not in capsys.readouterr().out


def test_the_projects_venv_is_built_by_uv_with_its_cache_in_cache_dir(
    runner: Runner, fake, demo_repo, pg_bin, tmp_path: Path
) -> None:
    repo, base, head = demo_repo
    runner.monkeypatch.delenv("INPUT_GITHUB-TOKEN")
    runner.event("pull_request", pull_request_payload(base=base, head=head))
    cache = tmp_path / "cache"
    seen = tmp_path / "install-env.txt"
    runner.inputs(
        mode="analyze",
        working_directory=str(repo),
        # pip is there too (seeded) for install commands that call it
        install_command=f'env > {seen}; test -x "$VIRTUAL_ENV/bin/pip" && uv pip install Django',
        cache_dir=str(cache),
    )

    code = runner.run()

    report = Report.model_validate_json((tmp_path / "migration-review-report.json").read_text())
    assert report.errors == [] and code == 1  # the demo fails at high: reviewed, not an error
    env = dict(line.split("=", 1) for line in seen.read_text().splitlines() if "=" in line)
    assert env["UV_CACHE_DIR"] == str(cache.resolve() / "uv")
    assert (cache / "uv").is_dir() and any((cache / "uv").iterdir())


def test_the_command_is_what_the_container_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "github", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "--fail-on" in result.stdout and "--github-token" not in result.stdout


def test_review_mode_reviews_a_pull_request_that_touches_no_migration(
    runner: Runner, fake, tmp_path: Path, capsys
) -> None:
    """The pull request that forgot its migration touches no migration file: it is reviewed
    anyway (makemigrations --check at head, no database), commented on, and fails the check."""
    from tests.shapes import migration, project
    from tests.test_shapes import NOTES, create

    repo, base, head = project(
        tmp_path / "src",
        ["memo"],
        {
            "memo/models.py": NOTES,
            "memo/migrations/0001_initial.py": migration(
                [], create("Note", '("text", models.TextField())')
            ),
        },
        {"memo/models.py": NOTES + "    archived = models.BooleanField(default=False)\n"},
    )
    runner.event("pull_request", pull_request_payload(base=base, head=head))
    runner.inputs(working_directory=str(repo), fail_on="high")

    code = runner.run()

    report = Report.model_validate_json((tmp_path / "migration-review-report.json").read_text())
    assert (code, report.decision, report.files, report.errors) == (1, "fail", [], [])
    assert [f.rule for f in report.project_findings] == ["MR-MISSING-MIGRATION"]
    [comment] = fake.comments_on(PR)
    assert "MR-MISSING-MIGRATION" in comment["body"]
    assert "python manage.py makemigrations memo" in comment["body"]
    assert "memo/migrations/0002_note_archived.py" in comment["body"]
    assert runner.outputs()["decision"] == "fail" and runner.outputs()["findings"] == "1"
    assert "::error file=memo/models.py,line=1" in capsys.readouterr().out
