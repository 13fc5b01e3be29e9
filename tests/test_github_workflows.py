"""The example workflows in docs/workflows/ pass actionlint and use the action as it is meant to be
used; the runner's file formats (workflow commands, step outputs) are written exactly."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.github import workflow

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / "docs" / "workflows").glob("*.yml"))
ACTION = "django-migration-review/django-migration-review@v0"


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    if not found:
        pytest.fail("actionlint is not installed: pip install -e '.[test]'")
    return subprocess.run(
        [found, "-no-color", *map(str, paths)], capture_output=True, text=True, cwd=ROOT
    )


def load(name: str) -> dict:
    return YAML(typ="safe").load((ROOT / "docs" / "workflows" / name).read_text())


def steps(flow: dict) -> list[dict]:
    return [step for job in flow["jobs"].values() for step in job["steps"]]


def our_step(flow: dict) -> dict:
    [step] = [s for s in steps(flow) if s.get("uses") == ACTION]
    return step


def test_the_example_workflows_pass_actionlint() -> None:
    assert [p.name for p in WORKFLOWS] == [
        "migration-review-analyze.yml",
        "migration-review-comment.yml",
        "migration-review.yml",
    ]
    result = actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (ROOT / "docs" / "workflows" / "migration-review.yml").read_text()
    broken.write_text(text.replace("steps.review.outputs.risk", "steps.reveiw.outputs.risk"))
    result = actionlint(broken)
    assert result.returncode != 0
    assert "reveiw" in result.stdout


def test_every_input_the_examples_pass_is_one_the_action_has() -> None:
    inputs = set(YAML(typ="safe").load((ROOT / "action.yml").read_text())["inputs"])
    for path in WORKFLOWS:
        assert set(our_step(load(path.name)).get("with", {})) <= inputs, path.name


def test_the_analyze_half_has_no_write_access_and_uploads_the_report() -> None:
    flow = load("migration-review-analyze.yml")
    assert set(flow["on"]) == {"pull_request"}
    assert flow["permissions"] == {"contents": "read"}
    review = our_step(flow)["with"]
    assert review["mode"] == "analyze" and review["github-token"] == ""
    [upload] = [s for s in steps(flow) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["with"]["path"] == review["report-path"]
    assert upload["if"] == "${{ !cancelled() }}"


def test_the_comment_half_runs_no_pull_request_code() -> None:
    analyze, comment = load("migration-review-analyze.yml"), load("migration-review-comment.yml")
    assert comment["on"]["workflow_run"]["workflows"] == [analyze["name"]]
    used = [s.get("uses", "") for s in steps(comment)]
    assert not any(u.startswith("actions/checkout") for u in used)
    assert not any("run" in s for s in steps(comment))
    [download] = [s for s in steps(comment) if s.get("uses", "").startswith("actions/download")]
    [upload] = [s for s in steps(analyze) if s.get("uses", "").startswith("actions/upload")]
    assert download["with"]["name"] == upload["with"]["name"]
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    assert our_step(comment)["with"]["mode"] == "comment"
    assert our_step(comment)["with"]["report-path"] == our_step(analyze)["with"]["report-path"]


def test_workflow_commands_escape_what_would_end_them_early() -> None:
    line = workflow.command(
        "error",
        "50% of rows\nlocked",
        file="shop/migrations/0002_a,b.py",
        line=12,
        title="MR-LOCK-INDEX: blocks writes",
    )
    assert line == (
        "::error file=shop/migrations/0002_a%2Cb.py,line=12,"
        "title=MR-LOCK-INDEX%3A blocks writes::50%25 of rows%0Alocked"
    )
    assert workflow.command("warning", "plain") == "::warning::plain"


def test_step_outputs_survive_values_that_look_like_delimiters(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.write_text("earlier=1\n")
    workflow.write_outputs(str(out), {"comment-url": "", "risk": "high\nEOF\nevil=1"})
    text = out.read_text()
    blocks = dict(re.findall(r"^([a-z-]+)<<(ghadelimiter_[0-9a-f-]+)\n", text, flags=re.M))
    assert set(blocks) == {"comment-url", "risk"}
    parsed = {
        name: re.search(rf"^{name}<<{d}\n(.*?)\n?{d}$", text, flags=re.M | re.S)[1]
        for name, d in blocks.items()
    }
    assert parsed == {"comment-url": "", "risk": "high\nEOF\nevil=1"}
    assert text.startswith("earlier=1\n")


@pytest.mark.parametrize("name", ["migration-review-analyze.yml", "migration-review-comment.yml"])
def test_readme_shows_the_fork_safe_workflows_as_linted_here(name: str) -> None:
    """README's fork-safe YAML is the linted file of docs/workflows, to the letter."""
    lines = (ROOT / "docs" / "workflows" / name).read_text().splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    body = "\n".join(lines).strip()
    assert body in (ROOT / "README.md").read_text()


def readme_workflows() -> list[str]:
    """The YAML blocks of README that are whole workflows."""
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    return [block for block in blocks if "\njobs:" in block and "\non:" in block]


def test_the_cache_is_saved_even_when_the_review_fails() -> None:
    """A review that finds a risk fails the job, and ``actions/cache`` saves only on success:
    every workflow that reviews restores the cache before the review and saves it after, always,
    under the key it restored with."""
    flows = {path.name: load(path.name) for path in WORKFLOWS}
    for number, block in enumerate(readme_workflows()):
        flows[f"README #{number}"] = YAML(typ="safe").load(block)
    reviewing = {
        name: flow
        for name, flow in flows.items()
        if our_step(flow).get("with", {}).get("mode") != "comment"
    }
    assert len(reviewing) == 4  # two in docs/workflows, their copies in README
    for name, flow in reviewing.items():
        order = steps(flow)
        uses = [step.get("uses", "").split("@")[0] for step in order]
        assert "actions/cache" not in uses, name
        restore = order[uses.index("actions/cache/restore")]
        save = order[uses.index("actions/cache/save")]
        assert (
            uses.index("actions/cache/restore")
            < order.index(our_step(flow))
            < uses.index("actions/cache/save")
        ), name
        assert save["if"].startswith("always()"), name
        assert save["with"]["path"] == restore["with"]["path"] == ".migration-review-cache", name
        assert (
            save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"
        ), name
        assert "hashFiles('**/migrations/*.py'" in restore["with"]["key"], name
        assert restore["with"]["key"].startswith(restore["with"]["restore-keys"]), name


def test_readmes_workflows_pass_actionlint(tmp_path: Path) -> None:
    paths = []
    for number, block in enumerate(readme_workflows()):
        paths.append(tmp_path / f"readme-{number}.yml")
        paths[-1].write_text(block)
    assert len(paths) == 3
    result = actionlint(*paths)
    assert result.returncode == 0, result.stdout + result.stderr
