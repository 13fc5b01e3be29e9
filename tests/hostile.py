"""A pull request written by an attacker: the demo project plus migrations whose names, field
names, SQL, ignore reasons and errors carry Markdown, HTML, mentions, references and the
comment's own marker. Shared by the tests of comment injection."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.demo import build_repository

IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]

FIELD_NAMES = [
    "g @someone",
    "t @org/team",
    "r #4242",
    "c</details>d",
    "h <img src=x onerror=alert(1)>",
    "m <!-- django-migration-review -->",
    "p a|b",
]
SQL = "SELECT 1 /* ``` @someone #4242 </details> <!-- django-migration-review --> */"
IGNORE_REASON = "@someone said so, see #4242 </details> <b>bold</b> `x"
ERROR = "boom\n```\n@someone #4242 </details> <!-- django-migration-review -->"
ODD_NAME = "0010_odd|na`me"

ADD_FIELDS = "".join(
    f"        migrations.AddField('customer', {name!r}, models.IntegerField(null=True)),\n"
    for name in FIELD_NAMES
)
HOSTILE = f"""from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [('shop', '0008_remove_customer_fax')]

    operations = [
{ADD_FIELDS}        # migration-review: ignore-file MR-NO-LOCK-TIMEOUT -- {IGNORE_REASON}
        migrations.RunSQL({SQL!r}, migrations.RunSQL.noop),
    ]
"""

ODD = """from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [('shop', '0009_hostile')]

    operations = [migrations.AddField('customer', 'nick', models.IntegerField(null=True))]
"""

FAILING = f"""from django.db import migrations


def boom(apps, schema_editor):
    raise RuntimeError({ERROR!r})


class Migration(migrations.Migration):

    dependencies = [('shop', {ODD_NAME!r})]

    operations = [migrations.RunPython(boom, migrations.RunPython.noop)]
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def build_hostile(repo: Path) -> tuple[str, str]:
    """The demo repository with the attacker's commit on top: (base, head)."""
    base, _ = build_repository(repo)
    migrations = repo / "shop" / "migrations"
    (migrations / "0009_hostile.py").write_text(HOSTILE)
    (migrations / f"{ODD_NAME}.py").write_text(ODD)
    (migrations / "0011_failing.py").write_text(FAILING)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", "hostile")
    return base, git(repo, "rev-parse", "HEAD")
