"""The kiosk test project (tests/projects/kiosk) for the MySQL/MariaDB and SQLite tests.

Its ``inventory`` app runs on every backend: each migration from 0003 on is one ALTER form
(column added, dropped, widened, narrowed, made NOT NULL, renamed, indexed...). The ``rawddl``
app adds the forms Django never writes, as RunSQL, on MySQL only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bot.models import ChangeKind, MigrationFile
from bot.secret_env import without_secrets

ROOT = Path(__file__).resolve().parent.parent
KIOSK = ROOT / "tests" / "projects" / "kiosk"
MYSQL_SETTINGS = "kiosk.settings_mysql"
SQLITE_SETTINGS = "kiosk.settings_sqlite"
IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]


def migrations(app: str) -> list[str]:
    """The app's migration names, in order."""
    return sorted(path.stem for path in (KIOSK / app / "migrations").glob("0*.py"))


def migration_file(app: str, name: str) -> MigrationFile:
    path = (KIOSK / app / "migrations" / f"{name}.py").relative_to(ROOT)
    return MigrationFile(path=str(path), change=ChangeKind.added)


def new_migrations(*, mysql: bool) -> list[tuple[str, str]]:
    """Every migration after the seed rows: the forms under review."""
    found = [("inventory", name) for name in migrations("inventory")[2:]]
    if mysql:
        found += [("rawddl", name) for name in migrations("rawddl")]
    return found


def manage(*args: str, settings: str, env: dict[str, str]) -> str:
    """``manage.py`` of the kiosk project in a process of its own; its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args, "--settings", settings],
        cwd=KIOSK,
        env={**without_secrets(), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def sqlmigrate_outputs(
    targets: list[tuple[str, str]], *, settings: str, env: dict[str, str]
) -> dict[str, str]:
    """What ``manage.py sqlmigrate`` prints for each target, the database migrated to the
    migration before it, as a developer would run it."""
    manage("migrate", "inventory", "0002_seed", settings=settings, env=env)
    printed = {}
    for app, name in targets:
        printed[f"{app}.{name}"] = manage("sqlmigrate", app, name, settings=settings, env=env)
        manage("migrate", app, name, settings=settings, env=env)
    return printed


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def build_repository(repo: Path, head: list[str]) -> None:
    """A git repository of the kiosk project: ``main`` has the inventory migrations up to the
    seed rows and 0006, branch ``feature`` (checked out) adds the ``head`` ones."""
    shutil.copytree(KIOSK, repo, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    held = repo.parent / "held"
    held.mkdir()
    for path in (repo / "inventory" / "migrations").glob("0*.py"):
        if int(path.stem[:4]) > 6:
            path.rename(held / path.name)
    for path in (repo / "rawddl" / "migrations").glob("0*.py"):
        path.unlink()
    git(repo, "init", "--quiet", "--initial-branch", "main")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", "base")
    git(repo, "checkout", "--quiet", "-b", "feature")
    for name in head:
        (held / f"{name}.py").rename(repo / "inventory" / "migrations" / f"{name}.py")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", "head")
