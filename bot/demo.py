"""``migration-review demo``: the whole review on a small bundled Django project.

``fixtures/demo/base`` (installed as package data in ``bot.fixtures``: the wheel alone runs the
demo) is a shop with two apps at its initial migrations; ``fixtures/demo/head`` overlays ten new
migrations that cover the common risky (and safe) cases. The demo commits both into a throwaway
git repository, reviews head against base exactly as ``analyze`` would, on an embedded throwaway
PostgreSQL unless ``--database-url`` is given, prints the review and removes the repository.

The demo contains high-risk migrations on purpose, so its review says the check fails; the
command itself exits 0 once the review is shown (1 only with an explicit ``--fail-on``), and 2
when the review could not be made.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

from bot.diff import git
from bot.errors import EXIT_FAIL, EXIT_PASS, ReviewError
from bot.models import Risk
from bot.pgbin import add_pg_bin_argument
from bot.pipeline import FORMATS, ReviewOptions, emit, review

# An installed package is a folder, in a wheel's install as in an editable one.
FIXTURES = Path(str(files("bot.fixtures") / "demo"))
IDENTITY = ("-c", "user.name=migration-review demo", "-c", "user.email=demo@example.invalid")
UNCOPIED = shutil.ignore_patterns("__pycache__", "*.pyc")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="PostgreSQL server to use (a fresh database is created and dropped); "
        "default: an embedded throwaway cluster",
    )
    add_pg_bin_argument(parser)
    parser.add_argument("--format", choices=FORMATS, default="markdown")
    parser.add_argument(
        "--fail-on",
        type=Risk,
        choices=list(Risk),
        help="exit 1 when a migration reaches this risk, as analyze does "
        "(default: show the review and exit 0)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the demo git repository and print its path"
    )


def build_repository(target: Path, fixtures: Path = FIXTURES) -> tuple[str, str]:
    """Commit the base project, then the head overlay, into a new git repository at ``target``.

    Returns the base and head commit SHAs.
    """
    if not (fixtures / "base").is_dir() or not (fixtures / "head").is_dir():
        raise ReviewError(
            f"the demo project is missing: {fixtures} has no base/ and head/ folders",
            stage="demo",
            file=str(fixtures),
            hint="reinstall django-migration-review: its package data is incomplete",
        )
    shutil.copytree(fixtures / "base", target, ignore=UNCOPIED)
    git(target, "init", "--quiet", "--initial-branch=main")
    base = _commit(target, "Shop and loans: initial migrations")
    git(target, "checkout", "--quiet", "-b", "feature/orders")
    shutil.copytree(fixtures / "head", target, ignore=UNCOPIED, dirs_exist_ok=True)
    head = _commit(target, "Orders: payment, status, indexes; loans linked to customers")
    return base, head


def _commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, *IDENTITY, "commit", "--quiet", "--no-gpg-sign", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def run(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="mr-demo-"))
    repo = folder / "demo-project"
    try:
        base, head = build_repository(repo)
        options = ReviewOptions.from_args(
            args, repo=repo, base=base, head=head, python=sys.executable
        )
        code = emit(review(options), options)
    finally:
        if args.keep:
            print(f"migration-review demo: the demo repository is kept in {repo}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if code == EXIT_FAIL and args.fail_on is None:
        return EXIT_PASS
    return code
