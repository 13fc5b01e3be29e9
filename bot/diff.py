"""Which migration files a pull request touches, read from git without touching the user's checkout.

The head's files are read from the checkout itself when it already is the head (untracked files
such as a git-ignored settings file included), else from a temporary ``git worktree``.

The review compares the head commit with the merge-base of base and head, as GitHub's pull request
view does: a migration that landed on the base branch after the PR branched off is not the PR's
change. Only ``.py`` files inside a ``migrations/`` folder count (``__init__.py`` is a package
marker, not a migration); which Django app they belong to is the collector's job, because an app's
label may differ from its folder name.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath

from bot.errors import ReviewError
from bot.models import ChangeKind, DiffResult, MigrationFile

SHALLOW_HINT = (
    "fetch the whole history: in GitHub Actions use actions/checkout with `fetch-depth: 0`, "
    "locally `git fetch --unshallow` or `git fetch origin <branch>`"
)


def git(repo: Path, *args: str) -> str:
    """Run one git command in ``repo`` and return its stdout; a failure becomes a ReviewError."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ReviewError(
            "git is not installed or not on PATH",
            stage="diff",
            hint="install git; the review reads the pull request's changes from the repository",
        ) from exc
    if done.returncode != 0:
        raise _GitFailed(args, done.stderr.strip())
    return done.stdout


class _GitFailed(ReviewError):
    """A git command exited non-zero; callers turn it into a message about what the user gave."""

    def __init__(self, args: tuple[str, ...], stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed: {stderr}", stage="diff", detail=stderr)
        self.stderr = stderr


def _git_about(repo: Path, args: list[str], *, message: str, hint: str) -> str:
    """``git`` in ``repo``, stripped; its failure told as ``message`` about what the user gave."""
    try:
        return git(repo, *args).strip()
    except _GitFailed as exc:
        raise ReviewError(
            message, stage="diff", file=str(repo), hint=hint, detail=exc.stderr
        ) from exc


def toplevel(repo: Path) -> Path:
    """The root of the git repository holding ``repo``."""
    if not repo.is_dir():
        raise ReviewError(
            f"{repo} is not a directory",
            stage="diff",
            file=str(repo),
            hint="pass --repo the folder of the git checkout to review",
        )
    top = _git_about(
        repo,
        ["rev-parse", "--show-toplevel"],
        message=f"{repo} is not inside a git repository",
        hint="pass --repo the folder of the git checkout to review (git rev-parse failed)",
    )
    return Path(top)


def resolve(repo: Path, ref: str) -> str:
    """The commit SHA ``ref`` names (a branch, tag, remote ref or SHA)."""
    return _git_about(
        repo,
        ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        message=f"unknown revision {ref!r} in {repo}",
        hint=f"check the name, or fetch it first (git fetch origin {ref}); {SHALLOW_HINT}",
    )


def merge_base(repo: Path, base_sha: str, head_sha: str, base: str, head: str) -> str:
    return _git_about(
        repo,
        ["merge-base", base_sha, head_sha],
        message=f"{base!r} and {head!r} have no common ancestor in {repo}",
        hint=f"the history is probably shallow: {SHALLOW_HINT}",
    )


KINDS = {"A": ChangeKind.added, "D": ChangeKind.deleted}


def is_migration(path: str) -> bool:
    """A Python module inside a ``migrations`` folder, not the package marker."""
    p = PurePosixPath(path)
    return p.suffix == ".py" and p.name != "__init__.py" and "migrations" in p.parent.parts


def parse_name_status(output: str) -> list[MigrationFile]:
    """Turn ``git diff --name-status -M -z`` output into the migration files it touches.

    A rename is kept only within one migrations folder: migrations are mostly boilerplate, so
    git's similarity score can pair a deleted migration of one app with a new one of another,
    and a file moved into, out of or between migrations folders is, for Django, a deletion and
    an addition.
    """
    fields = output.split("\0")
    files: list[MigrationFile] = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status[0] in "RC":
            old, new = fields[i + 1], fields[i + 2]
            i += 3
            same_folder = PurePosixPath(old).parent == PurePosixPath(new).parent
            if status[0] == "R" and same_folder and is_migration(old) and is_migration(new):
                files.append(MigrationFile(path=new, old_path=old, change=ChangeKind.renamed))
            else:
                if status[0] == "R" and is_migration(old):
                    files.append(MigrationFile(path=old, change=ChangeKind.deleted))
                if is_migration(new):
                    files.append(MigrationFile(path=new, change=ChangeKind.added))
            continue
        path = fields[i + 1]
        i += 2
        if not is_migration(path):
            continue
        change = KINDS.get(status[0], ChangeKind.modified)
        files.append(MigrationFile(path=path, change=change))
    return sorted(files, key=lambda f: f.path)


def diff_migrations(repo: Path, base: str, head: str) -> DiffResult:
    """The migration files changed between the merge-base of ``base`` and ``head``, and ``head``.

    Paths are relative to the repository root. When ``repo`` is a sub-folder of the repository
    (a Django project inside a monorepo), only files under it are considered.
    """
    root = toplevel(repo)
    prefix = git(repo, "rev-parse", "--show-prefix").strip()
    base_sha = resolve(repo, base)
    head_sha = resolve(repo, head)
    fork_point = merge_base(repo, base_sha, head_sha, base, head)
    output = git(
        root,
        "-c",
        "core.quotePath=false",
        "diff",
        "--name-status",
        "-M",
        "-z",
        "--no-ext-diff",
        fork_point,
        head_sha,
        "--",
        prefix or ".",
    )
    return DiffResult(
        repo=str(root),
        base_ref=base,
        head_ref=head,
        base_sha=base_sha,
        head_sha=head_sha,
        merge_base=fork_point,
        files=parse_name_status(output),
    )


def restored_release(repo: Path, merge_base: str, head_sha: str, path: str) -> str | None:
    """The latest release tag the merge-base contains, when ``path`` at head is byte for byte
    its content in that release: the edit undoes one made since (databases running a release
    applied exactly this version). None without tags or when the contents differ."""
    try:
        tag = git(repo, "describe", "--tags", "--abbrev=0", merge_base).strip()
        released = git(repo, "rev-parse", "--verify", "--quiet", f"{tag}:{path}").strip()
        at_head = git(repo, "rev-parse", "--verify", "--quiet", f"{head_sha}:{path}").strip()
    except _GitFailed:
        return None
    return tag if released == at_head else None


def checkout_has(root: Path, sha: str) -> bool:
    """Whether the checkout at ``root`` already is ``sha``, with no change to a tracked file.

    GitHub Actions checks a pull request out as its test merge commit (first parent the base,
    second the pull request's head): that checkout counts as the head too, and is what will be
    merged. Untracked and ignored files do not count as changes: they are the point.
    """
    checked_out = [git(root, "rev-parse", "HEAD").strip()]
    with suppress(_GitFailed):  # HEAD may not be a merge commit
        checked_out.append(git(root, "rev-parse", "--verify", "--quiet", "HEAD^2").strip())
    if sha not in checked_out:
        return False
    # --no-optional-locks: status must not rewrite the index (as root, in the runner's checkout).
    return not git(
        root, "--no-optional-locks", "status", "--porcelain", "--untracked-files=no"
    ).strip()


@contextmanager
def head_tree(repo: Path, sha: str, copy_untracked: tuple[str, ...] = ()) -> Iterator[Path]:
    """The tree the head is read from: the checkout itself when it already is ``sha``
    (``checkout_has``), untracked files included, such as a git-ignored ``local_settings.py``
    an earlier CI step wrote; else a temporary worktree of ``sha`` with ``copy_untracked`` (paths
    relative to the repository) copied into it from the checkout."""
    root = toplevel(repo)
    if not copy_untracked and checkout_has(root, sha):
        yield root
        return
    with worktree(repo, sha) as tree:
        for name in copy_untracked:
            source, target = root / name, tree / name
            if not source.is_file():
                raise ReviewError(
                    f"--copy-untracked {name}: there is no such file in {root}",
                    stage="diff",
                    file=name,
                    hint="give paths relative to the repository's root, of files in the checkout",
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        yield tree


MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
MISSING_FILE = re.compile(r"No such file or directory: '([^']+)'")


def untracked_cause(text: str, checkout: Path, tree: Path, project: Path) -> str | None:
    """The file, relative to the repository, that ``text`` (an error) says is missing, when it
    is in the checkout but not in the head's worktree ``tree``: an untracked file."""
    candidates: list[Path] = []
    for module in MISSING_MODULE.findall(text):
        parts = Path(*module.split("."))
        for base in (project, tree):
            candidates += [base / parts.with_suffix(".py"), base / parts / "__init__.py"]
    for name in MISSING_FILE.findall(text):
        path = Path(name)
        candidates.append(path if path.is_absolute() else project / path)
    for candidate in candidates:
        try:
            relative = candidate.relative_to(tree)
        except ValueError:
            continue
        if (checkout / relative).is_file() and not candidate.exists():
            return relative.as_posix()
    return None


@contextmanager
def worktree(repo: Path, sha: str) -> Iterator[Path]:
    """A temporary checkout of ``sha`` (detached), removed afterwards even on error.

    ``git worktree`` shares the object store, so this is cheap, and the user's own working tree,
    index and checked-out branch are never touched.
    """
    root = toplevel(repo)
    parent = Path(tempfile.mkdtemp(prefix="mr-worktree-"))
    parent.chmod(0o755)  # the collector may run as another, unprivileged, user (bot.sandbox)
    tree = parent / "tree"
    try:
        # The user's hooks (post-checkout) are theirs to run, not the review's.
        _git_about(
            root,
            [
                "-c",
                "core.hooksPath=/dev/null",
                "worktree",
                "add",
                "--detach",
                "--quiet",
                str(tree),
                sha,
            ],
            message=f"could not check out {sha} in a temporary worktree of {root}",
            hint=f"make sure the commit exists locally; {SHALLOW_HINT}",
        )
        yield tree
    finally:
        if tree.exists():
            subprocess.run(
                ["git", "-C", str(root), "worktree", "remove", "--force", str(tree)],
                capture_output=True,
                check=False,
            )
        shutil.rmtree(parent, ignore_errors=True)
        subprocess.run(
            ["git", "-C", str(root), "worktree", "prune"], capture_output=True, check=False
        )
