"""A synthetic Django project with a long migration history, in a git repository, for benchmarks.

``--apps`` apps of ``--migrations`` migrations each (default 40 x 50 = 2,000) on ``main``, mixing
what real histories hold: nullable and NOT NULL DEFAULT columns, indexes, AlterField, new models
with foreign keys, foreign keys to the previous app's model (the apps' histories interleave:
every fourth migration depends on the previous app's migration of the same number), and RunPython
that creates and updates rows later migrations read. Branches:

- ``pr-1``, ``pr-5``, ``pr-20``: main plus k new migrations, round-robin over the last apps,
  each depending on its app's previous migration and on the previous app's latest;
- ``moved``: main plus 3 merged migrations (the base moved on), and ``pr-moved``: ``moved``
  plus 5 new ones standing on them.

    python bench/synthetic.py /tmp/synth --apps 40 --migrations 50

prints the branches and their commits as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]

SETTINGS = """\
import os

SECRET_KEY = "benchmark-only"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [{apps}]
DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("SYNTH_DB", "postgres"),
        "USER": "postgres",
        "HOST": os.environ.get("SYNTH_HOST", "127.0.0.1"),
        "PORT": os.environ.get("SYNTH_PORT", "5432"),
    }}
}}
"""
MANAGE = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "synth.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""
MIGRATION = """\
from django.db import migrations, models
import django.db.models.deletion


{functions}class Migration(migrations.Migration):
    dependencies = [{dependencies}]

    operations = [
{operations}    ]
"""
RUN_PYTHON = """\
def forwards(apps, schema_editor):
    Thing = apps.get_model("{app}", "Thing")
    Thing.objects.create(name="row {number}")
    Thing.objects.filter(name__startswith="row").update(name="row seen {number}")


"""


def app_name(index: int) -> str:
    return f"app{index:02d}"


class History:
    """Which migrations each app has, so that new ones know what they stand on."""

    def __init__(self, root: Path, apps: int) -> None:
        self.root = root
        self.apps = apps
        self.latest = [0] * apps

    def write_project(self) -> None:
        (self.root / "synth").mkdir(parents=True)
        (self.root / "synth" / "__init__.py").write_text("")
        names = ", ".join(f'"{app_name(a)}"' for a in range(self.apps))
        (self.root / "synth" / "settings.py").write_text(SETTINGS.format(apps=names))
        (self.root / "manage.py").write_text(MANAGE)
        for a in range(self.apps):
            folder = self.root / app_name(a) / "migrations"
            folder.mkdir(parents=True)
            (self.root / app_name(a) / "__init__.py").write_text("")
            (self.root / app_name(a) / "models.py").write_text("")
            (folder / "__init__.py").write_text("")

    def add(self, a: int, *, cross: bool | None = None) -> str:
        """Write app ``a``'s next migration; returns its path relative to the project."""
        number = self.latest[a] + 1
        app = app_name(a)
        dependencies = [(app, self.name(a, number - 1))] if number > 1 else []
        if cross is None:
            cross = number % 4 == 3
        if cross and a > 0 and self.latest[a - 1]:
            dependencies.append((app_name(a - 1), self.name(a - 1, self.latest[a - 1])))
        functions, operations = self.operations(a, number)
        text = MIGRATION.format(
            functions=functions,
            dependencies=", ".join(f"({x!r}, {y!r})" for x, y in dependencies),
            operations="".join(f"        {op},\n" for op in operations),
        )
        path = self.root / app / "migrations" / f"{self.name(a, number)}.py"
        path.write_text(text)
        self.latest[a] = number
        return str(path.relative_to(self.root))

    @staticmethod
    def name(a: int, number: int) -> str:
        return f"{number:04d}_step" if number > 1 else "0001_initial"

    def operations(self, a: int, n: int) -> tuple[str, list[str]]:
        app = app_name(a)
        char = "models.CharField(max_length=50, null=True)"
        if n == 1:
            return "", [
                'migrations.CreateModel("Thing", [("id", models.BigAutoField(primary_key=True)), '
                '("name", models.CharField(max_length=100))])'
            ]
        kind = n % 8
        if kind == 2 and n >= 10:
            return "", [
                f'migrations.AddIndex("thing", models.Index(fields=["f{n - 2}"], '
                f'name="{app}_f{n - 2}_idx"))'
            ]
        if kind == 1:
            return "", [
                f'migrations.AddField("thing", "flag{n}", models.BooleanField(default=False))'
            ]
        if kind == 3 and a > 0:
            target = app_name(a - 1)
            return "", [
                f'migrations.AddField("thing", "ref{n}", models.ForeignKey("{target}.thing", '
                "null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+'))"
            ]
        if kind == 4:
            return RUN_PYTHON.format(app=app, number=n), [
                "migrations.RunPython(forwards, migrations.RunPython.noop)"
            ]
        if kind == 5 and n >= 13:
            return "", [
                f'migrations.AlterField("thing", "f{n - 5}", '
                "models.CharField(max_length=80, null=True))"
            ]
        if kind == 6:
            return "", [
                f'migrations.CreateModel("Part{n}", [("id", models.BigAutoField('
                'primary_key=True)), ("label", models.CharField(max_length=40)), ("thing", '
                'models.ForeignKey("thing", on_delete=django.db.models.deletion.CASCADE))])'
            ]
        if kind == 7:
            return "", [f'migrations.AddField("part{n - 1}", "note", models.TextField(default=""))']
        return "", [f'migrations.AddField("thing", "f{n}", {char})']


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def add_round_robin(history: History, count: int) -> list[str]:
    """``count`` new migrations over the last apps, each standing on the previous app's latest."""
    return [
        history.add(history.apps - 1 - index % history.apps, cross=True) for index in range(count)
    ]


def build(root: Path, apps: int, migrations: int) -> dict[str, dict[str, object]]:
    if root.exists():
        shutil.rmtree(root)
    history = History(root, apps)
    history.write_project()
    for number in range(migrations):
        for a in range(apps):
            if history.latest[a] == number:
                history.add(a)
    git(root, "init", "--quiet", "--initial-branch=main")
    branches: dict[str, dict[str, object]] = {
        "main": {"commit": commit(root, "base history"), "added": []}
    }
    saved = list(history.latest)
    for k in (1, 5, 20):
        git(root, "checkout", "--quiet", "-b", f"pr-{k}", "main")
        added = add_round_robin(history, k)
        branches[f"pr-{k}"] = {"commit": commit(root, f"{k} new"), "added": added}
        history.latest = list(saved)
        git(root, "checkout", "--quiet", "main")
    git(root, "checkout", "--quiet", "-b", "moved", "main")
    merged = add_round_robin(history, 3)
    branches["moved"] = {"commit": commit(root, "3 merged"), "added": merged}
    git(root, "checkout", "--quiet", "-b", "pr-moved", "moved")
    added = add_round_robin(history, 5)
    branches["pr-moved"] = {"commit": commit(root, "5 new on the moved base"), "added": added}
    git(root, "checkout", "--quiet", "main")
    return branches


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder to create (replaced if it exists)")
    parser.add_argument("--apps", type=int, default=40)
    parser.add_argument("--migrations", type=int, default=50, help="per app, on main")
    args = parser.parse_args(argv)
    branches = build(args.root, args.apps, args.migrations)
    json.dump(branches, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
