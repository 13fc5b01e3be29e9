"""The diff stage on real throwaway git repositories."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.diff import diff_migrations, is_migration, worktree
from bot.errors import ReviewError
from bot.models import ChangeKind

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return done.stdout.strip()


def write(repo: Path, path: str, text: str) -> None:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


MIGRATION = "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main: two apps with migrations; branch feature: every kind of change on top."""
    repo = tmp_path / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    write(repo, "shop/migrations/__init__.py", "")
    write(repo, "shop/migrations/0001_initial.py", MIGRATION + "    initial = True\n")
    write(repo, "shop/migrations/0002_old.py", MIGRATION + "    pass  # to be deleted\n")
    write(repo, "shop/migrations/0003_moved.py", MIGRATION + "    dependencies = []\n" * 5)
    write(repo, "shop/migrations/0004_edit.py", MIGRATION + "    atomic = True\n")
    write(repo, "shop/models.py", "# models\n")
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, "shop/migrations/0005_new.py", MIGRATION + "    operations = []\n")
    (repo / "shop/migrations/0002_old.py").unlink()
    git(repo, "mv", "shop/migrations/0003_moved.py", "shop/migrations/0003_renamed.py")
    write(repo, "shop/migrations/0004_edit.py", MIGRATION + "    atomic = False\n")
    write(repo, "shop/migrations/__init__.py", "# touched, but not a migration\n")
    write(repo, "shop/models.py", "# models changed\n")
    write(repo, "shop/migrations/README.md", "not python\n")
    write(repo, "lending/migrations/0001_initial.py", MIGRATION)
    commit(repo, "feature")
    return repo


def test_every_kind_of_change_is_classified(repo: Path) -> None:
    result = diff_migrations(repo, "main", "feature")
    got = {(f.path, f.change, f.old_path) for f in result.files}
    assert got == {
        ("lending/migrations/0001_initial.py", ChangeKind.added, None),
        ("shop/migrations/0002_old.py", ChangeKind.deleted, None),
        (
            "shop/migrations/0003_renamed.py",
            ChangeKind.renamed,
            "shop/migrations/0003_moved.py",
        ),
        ("shop/migrations/0004_edit.py", ChangeKind.modified, None),
        ("shop/migrations/0005_new.py", ChangeKind.added, None),
    }
    assert result.base_sha == git(repo, "rev-parse", "main")
    assert result.head_sha == git(repo, "rev-parse", "feature")
    assert result.merge_base == result.base_sha
    assert Path(result.repo) == repo.resolve()


def test_diff_is_against_the_merge_base_when_base_moved_on(repo: Path) -> None:
    """A migration that landed on main after the branch forked is not the PR's change."""
    fork = git(repo, "rev-parse", "main")
    git(repo, "checkout", "-q", "main")
    write(repo, "shop/migrations/0005_other_pr.py", MIGRATION)
    (repo / "shop/migrations/0001_initial.py").unlink()
    commit(repo, "main moves on")
    git(repo, "checkout", "-q", "feature")

    result = diff_migrations(repo, "main", "feature")
    paths = {f.path for f in result.files}
    assert result.merge_base == fork != result.base_sha
    assert "shop/migrations/0005_other_pr.py" not in paths
    assert "shop/migrations/0001_initial.py" not in paths  # deleted on main, not by the PR
    assert "shop/migrations/0005_new.py" in paths


def test_shas_work_as_well_as_refs(repo: Path) -> None:
    base, head = git(repo, "rev-parse", "main"), git(repo, "rev-parse", "feature")
    by_sha = diff_migrations(repo, base, head)
    by_ref = diff_migrations(repo, "main", "feature")
    assert by_sha.files == by_ref.files
    assert by_sha.files


def test_a_subfolder_repo_only_sees_its_own_migrations(repo: Path) -> None:
    result = diff_migrations(repo / "lending", "main", "feature")
    assert [f.path for f in result.files] == ["lending/migrations/0001_initial.py"]


def test_working_tree_and_branch_are_untouched(repo: Path) -> None:
    write(repo, "shop/models.py", "# uncommitted work\n")
    write(repo, "scratch.txt", "untracked\n")
    status_before = git(repo, "status", "--porcelain")
    branch_before = git(repo, "symbolic-ref", "HEAD")

    diff = diff_migrations(repo, "main", "feature")
    with worktree(repo, diff.merge_base) as tree:
        assert (tree / "shop/migrations/0002_old.py").is_file()
        assert not (tree / "shop/migrations/0005_new.py").exists()
        assert (tree / "shop/models.py").read_text() == "# models\n"

    assert git(repo, "status", "--porcelain") == status_before
    assert git(repo, "symbolic-ref", "HEAD") == branch_before
    assert (repo / "shop/models.py").read_text() == "# uncommitted work\n"
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_worktree_is_removed_even_on_error(repo: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"), worktree(repo, "feature") as tree:
        assert (tree / "shop/migrations/0005_new.py").is_file()
        raise RuntimeError("boom")
    assert not tree.exists()
    assert not tree.parent.exists()
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_the_users_checkout_hooks_do_not_run(repo: Path, tmp_path: Path) -> None:
    ran = tmp_path / "hook-ran"
    hook = repo / ".git/hooks/post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {ran}\n")
    hook.chmod(0o755)
    git(repo, "checkout", "-q", "main")
    assert ran.exists()  # the hook works for the user's own checkouts
    ran.unlink()
    with worktree(repo, "feature"):
        pass
    assert not ran.exists()


def test_unknown_ref_names_the_ref_and_what_to_do(repo: Path) -> None:
    with pytest.raises(ReviewError) as caught:
        diff_migrations(repo, "origin/nope", "feature")
    error = caught.value.error
    assert error.stage == "diff"
    assert "origin/nope" in error.message
    assert error.hint and "fetch-depth: 0" in error.hint


def test_not_a_git_repository(tmp_path: Path) -> None:
    with pytest.raises(ReviewError) as caught:
        diff_migrations(tmp_path, "main", "HEAD")
    assert "not inside a git repository" in caught.value.error.message
    assert caught.value.error.file == str(tmp_path)


def test_unrelated_histories_have_no_merge_base(repo: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "unrelated")
    write(repo, "other.txt", "x\n")
    commit(repo, "unrelated root")
    with pytest.raises(ReviewError) as caught:
        diff_migrations(repo, "main", "unrelated")
    assert "no common ancestor" in caught.value.error.message
    assert "fetch-depth: 0" in (caught.value.error.hint or "")


def test_shallow_clone_without_the_base_says_to_fetch_everything(
    repo: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo}", str(clone)],
        check=True,
        capture_output=True,
    )
    with pytest.raises(ReviewError) as caught:
        diff_migrations(clone, git(repo, "rev-parse", "main"), "HEAD")
    assert caught.value.error.stage == "diff"
    assert "fetch-depth: 0" in (caught.value.error.hint or "")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("shop/migrations/0001_initial.py", True),
        ("src/apps/shop/migrations/0002_x.py", True),
        ("shop/migrations/__init__.py", False),
        ("shop/migrations/notes.txt", False),
        ("shop/migrations.py", False),
        ("migrations_helper/0001.py", False),
    ],
)
def test_what_counts_as_a_migration(path: str, expected: bool) -> None:
    assert is_migration(path) is expected
