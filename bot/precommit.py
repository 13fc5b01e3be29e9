"""``migration-review pre-commit``: the review of what is about to be committed (or pushed).

The hook in ``.pre-commit-hooks.yaml`` runs this. It reviews the migrations that the staged
changes (a commit made of the index on top of HEAD, which touches neither the index nor the
working tree) change against the current branch's upstream, ``@{upstream}``, else the default
base ``analyze`` uses, and exits 1 when one reaches ``--fail-on``: the same review, the same
exit codes, before the pull request exists.

The collector needs an interpreter that imports the project: ``--python``, else the project's
own ``.venv`` or ``venv`` when there is one, else the hook's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.diff import git, toplevel
from bot.errors import ReviewError
from bot.pipeline import ReviewOptions, default_base, emit, review
from bot.pipeline import add_arguments as add_analyze_arguments

VENVS = (".venv", "venv")
IDENTITY = ("-c", "user.name=migration-review", "-c", "user.email=pre-commit@example.invalid")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_analyze_arguments(parser)
    parser.set_defaults(head=None, base=None)
    parser.add_argument(
        "filenames", nargs="*", help=argparse.SUPPRESS
    )  # what pre-commit passes when pass_filenames is left on: the diff decides instead


def run(args: argparse.Namespace) -> int:
    repo: Path = args.repo
    base = args.base or upstream(repo) or default_base(repo)
    head = args.head or staged_commit(repo)
    python = args.python or project_python(repo)
    options = ReviewOptions.from_args(args, base=base, head=head, python=python)
    return emit(review(options), options)


def upstream(repo: Path) -> str | None:
    """The current branch's upstream (``origin/main``), or None without one."""
    try:
        name = git(repo, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}")
    except ReviewError:
        return None
    return name.strip() or None


def staged_commit(repo: Path) -> str:
    """A commit of the index on top of HEAD: what ``git commit`` would make, made aside.

    It is an unreferenced object (git's gc removes it); the branch, the index and the working
    tree are left as they are.
    """
    tree = git(repo, "write-tree").strip()
    try:
        parents = ["-p", git(repo, "rev-parse", "--verify", "--quiet", "HEAD").strip()]
    except ReviewError:
        parents = []  # the first commit of the repository
    message = ["-m", "migration-review: the staged changes"]
    return git(repo, *IDENTITY, "commit-tree", tree, *parents, *message).strip()


def project_python(repo: Path) -> str:
    """The project's virtual environment next to manage.py or at the repository's root."""
    for folder in dict.fromkeys([repo.resolve(), toplevel(repo)]):
        for name in VENVS:
            python = folder / name / "bin" / "python"
            if python.is_file():
                return str(python)
    return sys.executable
