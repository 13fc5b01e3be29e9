"""The pre-commit hook: ``pre-commit try-repo`` on a repository with a risky staged migration,
and ``migration-review pre-commit`` itself on staged changes against the upstream branch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.cli import main
from bot.demo import FIXTURES
from bot.models import Report
from tests.conftest import ROOT

IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
SAFE = "shop/migrations/0002_order_paid_at.py"  # a nullable column: low
RISKY = (  # 0005 builds an index without CONCURRENTLY: high
    SAFE,
    "shop/migrations/0003_order_status.py",
    "shop/migrations/0004_customer_phone.py",
    "shop/migrations/0005_order_status_index.py",
)
STAGED = "".join(f"A  {name}\n" for name in RISKY).strip()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def staged_repo(folder: Path, *migrations: str) -> Path:
    """The demo's base on main; a feature branch tracking it, with ``migrations`` staged only."""
    repo = folder / "project"
    shutil.copytree(FIXTURES / "base", repo, ignore=shutil.ignore_patterns("__pycache__"))
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", "base")
    git(repo, "checkout", "--quiet", "-b", "feature", "--track", "main")
    for name in migrations:
        shutil.copy(FIXTURES / "head" / name, repo / name)
    git(repo, "add", "--all")
    return repo


def test_the_hook_is_declared_for_pre_commit() -> None:
    [hook] = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "migration-review"
    assert hook["entry"] == "migration-review pre-commit"
    assert hook["language"] == "python" and hook["pass_filenames"] is False


def test_pre_commit_try_repo_fails_on_a_risky_staged_migration(private_tmp: Path) -> None:
    repo = staged_repo(private_tmp, *RISKY)
    home = private_tmp / "pre-commit-home"
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "migration-review",
         "--verbose", "--color", "never"],
        cwd=repo, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PRE_COMMIT_HOME": str(home), "TMPDIR": str(private_tmp)},
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "migration review" in out and "Failed" in out
    assert "- exit code: 1" in out
    assert "shop.0005_order_status_index" in out
    assert "**❌ Fails the check:**" in out
    assert git(repo, "status", "--porcelain") == STAGED  # nothing committed or changed


def test_pre_commit_command_reviews_the_staged_changes_against_the_upstream(
    private_tmp: Path, capsys: pytest.CaptureFixture[str], pg_bin: Path
) -> None:
    repo = staged_repo(private_tmp, *RISKY)
    head_before = git(repo, "rev-parse", "HEAD")
    code = main(["pre-commit", "--repo", str(repo), "--python", sys.executable, "--format", "json"])
    report = Report.model_validate_json(capsys.readouterr().out)
    assert code == 1 and report.decision == "fail"
    assert {m.file for m in report.migrations} == set(RISKY)
    assert report.base_sha == report.merge_base == head_before  # main, the upstream
    assert report.head_sha != head_before
    assert git(repo, "rev-parse", "HEAD") == head_before
    assert git(repo, "status", "--porcelain") == STAGED

    for name in RISKY[1:]:
        git(repo, "rm", "--cached", "--quiet", name)
        (repo / name).unlink()
    # The safe migration alone, with the model it was written for (else makemigrations --check
    # rightly finds the field missing from models.py).
    models = repo / "shop" / "models.py"
    note = "    note = models.TextField(null=True, blank=True)\n"
    models.write_text(
        models.read_text().replace(
            note, note + "    paid_at = models.DateTimeField(null=True, blank=True)\n", 1
        )
    )
    git(repo, "add", "shop/models.py")
    assert main(["pre-commit", "--repo", str(repo), "--python", sys.executable]) == 0
    assert "**✅ Passes the check:**" in capsys.readouterr().out
