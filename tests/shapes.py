"""Small Django projects in real git repositories, shaped like what broke reviews on real ones.

``project(tmp_path, base, head)`` writes a project (settings, manage.py, one package per app) with
the files of ``base``, commits it on ``main``, then writes ``head`` over it on a branch and commits
that: a value of ``None`` in ``head`` deletes the file.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]

MANAGE = """import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

SETTINGS = """SECRET_KEY = "shapes"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = {apps!r}
DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": "shapes"}}}}
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def write(repo: Path, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        for folder in path.relative_to(repo).parents:
            if folder.name in ("migrations",) or (folder.name and folder.parent == Path(".")):
                (repo / folder / "__init__.py").touch()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def project(
    tmp_path: Path,
    apps: list[str],
    base: dict[str, str | None],
    head: dict[str, str | None],
    *,
    settings: str | None = None,
) -> tuple[Path, str, str]:
    """A repository at ``head`` on branch ``feature``; returns it, the base and head SHAs."""
    repo = tmp_path / "project"
    repo.mkdir(parents=True)
    write(repo, {"manage.py": MANAGE, "site_settings.py": settings or SETTINGS.format(apps=apps)})
    write(repo, base)
    git(repo, "init", "--quiet", "--initial-branch=main")
    base_sha = commit(repo, "base")
    git(repo, "checkout", "--quiet", "-b", "feature")
    write(repo, head)
    return repo, base_sha, commit(repo, "head")


def migration(dependencies: list[tuple[str, str]], operations: str, **extra: str) -> str:
    """A migration module: ``operations`` is the source of the list's items."""
    head = "".join(f"    {name} = {value}\n" for name, value in extra.items())
    return (
        "import uuid\n\nimport django.db.models.deletion\nfrom django.db import migrations, models"
        f"\n\n\nclass Migration(migrations.Migration):\n{head}"
        f"    dependencies = {dependencies!r}\n    operations = [\n{operations}    ]\n"
    )
