"""The shapes that broke reviews on real projects, each reviewed end to end through ``analyze``
on a real PostgreSQL, in a real git repository built by ``tests/shapes.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.models import Report
from tests.shapes import SETTINGS, git, migration, project

ID = (
    '("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, '
    'verbose_name="ID"))'
)


def analyze(repo: Path, base: str, *args: str) -> tuple[int, Report]:
    out = repo.parent / "report.json"
    command = ["analyze", "--repo", str(repo), "--base", base, "--format", "json"]
    code = main([*command, "--output", str(out), *args])
    return code, Report.model_validate_json(out.read_text())


def create(name: str, *fields: str) -> str:
    return f"        migrations.CreateModel(name={name!r}, fields=[{', '.join([ID, *fields])}]),\n"


# --- 1. callable defaults -------------------------------------------------------------------

TICKET = "import uuid\n\nfrom django.db import models\n\n\nclass Ticket(models.Model):\n"


def test_a_callable_default_keeps_its_statements_traced(tmp_path: Path, pg_url: str) -> None:
    repo, base, _ = project(
        tmp_path,
        ["desk"],
        {
            "desk/models.py": TICKET + "    code = models.UUIDField(null=True)\n",
            "desk/migrations/0001_initial.py": migration(
                [], create("Ticket", '("code", models.UUIDField(null=True))')
            ),
        },
        {
            "desk/models.py": TICKET + "    code = models.UUIDField(default=uuid.uuid4)\n",
            "desk/migrations/0002_ticket_code.py": migration(
                [("desk", "0001_initial")],
                '        migrations.AlterField("ticket", "code", '
                "models.UUIDField(default=uuid.uuid4)),\n",
            ),
        },
    )
    _, report = analyze(repo, base, "--database-url", pg_url)
    assert report.errors == []
    [m] = report.migrations
    assert m.unrendered == []
    assert "MR-UNRENDERED-SQL" not in {f.rule for f in m.findings}
    assert [s.final.source for s in m.statements] == ["traced"] * 4
    fill = m.statements[1]
    assert fill.sql.startswith('UPDATE "desk_ticket" SET "code" = ')
    # sqlmigrate's literal is shown; the one migrate drew is kept beside it.
    assert fill.sql in m.sqlmigrate
    assert [s.sql for s in m.statements[2:]] == [
        'ALTER TABLE "desk_ticket" ALTER COLUMN "code" SET NOT NULL;',
        'ALTER TABLE "desk_ticket" ALTER COLUMN "code" DROP DEFAULT;',
    ]
    assert len([f for f in m.findings if f.rule == "MR-DML"]) == 1


# --- 2. squashed dependencies ---------------------------------------------------------------

SQUASHED = {
    "accounts/models.py": "from django.db import models\n\n\nclass Member(models.Model):\n"
    "    name = models.TextField()\n    email = models.TextField()\n",
    # Only the squashed migration is left; billing's initial migration still names 0002.
    "accounts/migrations/0001_squashed_0002_member_email.py": migration(
        [],
        create("Member", '("name", models.TextField())', '("email", models.TextField())'),
        replaces='[("accounts", "0001_initial"), ("accounts", "0002_member_email")]',
    ),
    "billing/models.py": "from django.db import models\n\n\nclass Invoice(models.Model):\n"
    '    member = models.ForeignKey("accounts.Member", models.CASCADE)\n',
    "billing/migrations/0001_initial.py": migration(
        [("accounts", "0002_member_email")],
        create(
            "Invoice",
            '("member", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, '
            'to="accounts.member"))',
        ),
    ),
}


def test_a_dependency_on_a_replaced_migration_is_remapped_as_migrate_does(
    tmp_path: Path, pg_url: str
) -> None:
    repo, base, _ = project(
        tmp_path,
        ["accounts", "billing"],
        SQUASHED,
        {
            "billing/models.py": SQUASHED["billing/models.py"] + "    total = models.IntegerField"
            "(null=True)\n",
            "billing/migrations/0002_invoice_total.py": migration(
                [("billing", "0001_initial")],
                '        migrations.AddField("invoice", "total", '
                "models.IntegerField(null=True)),\n",
            ),
        },
    )
    code, report = analyze(repo, base, "--database-url", pg_url)
    assert (code, report.errors) == (0, [])
    [m] = report.migrations
    assert m.sqlmigrate == (
        'BEGIN;\n--\n-- Add field total to invoice\n--\nALTER TABLE "billing_invoice" '
        'ADD COLUMN "total" integer NULL;\nCOMMIT;\n'
    )
    assert m.statements[0].final.source == "traced"


# --- 8. messages ----------------------------------------------------------------------------


def test_an_error_says_there_is_no_verdict(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture
) -> None:
    repo, base, _ = project(
        tmp_path,
        ["desk"],
        {"desk/models.py": TICKET + "    code = models.UUIDField(null=True)\n"},
        {"desk/migrations/0001_initial.py": "raise ImportError('half-written')\n"},
    )
    out = tmp_path / "review.md"
    code = main(["analyze", "--repo", str(repo), "--base", base, "--output", str(out),
                 "--database-url", pg_url])  # fmt: skip
    first = capsys.readouterr().err.splitlines()[0]
    assert code == 2
    assert first.startswith("migration-review: error, no verdict"), first
    assert "risk" not in first


# --- 9. PYTHONPATH --------------------------------------------------------------------------


def test_the_projects_pythonpath_is_honoured(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "house_money.py").write_text("DIGITS, PLACES = 12, 2\n")
    money = "models.DecimalField(max_digits=house_money.DIGITS, decimal_places=house_money.PLACES)"
    repo, base, _ = project(
        tmp_path,
        ["till"],
        {"till/models.py": "from django.db import models\n"},
        {
            "till/models.py": "import house_money\nfrom django.db import models\n\n\n"
            f"class Sale(models.Model):\n    amount = {money}\n",
            "till/migrations/0001_initial.py": "import house_money\n"
            + migration([], create("Sale", f'("amount", {money})')),
        },
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", "vendor")  # relative to where the review runs
    code, report = analyze(repo, base, "--database-url", pg_url)
    assert report.errors == [] and code == 0
    [m] = report.migrations
    assert '"amount" numeric(12, 2) NOT NULL' in m.sqlmigrate


MODELS = "from django.db import models\n\n\n"
NOTES = MODELS + "class Note(models.Model):\n    text = models.TextField()\n"


# --- 6. several databases -------------------------------------------------------------------

ROUTED = """SECRET_KEY = "shapes"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = ["memo", "metrics"]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shapes"},
    "warehouse": {"ENGINE": "django.db.backends.postgresql", "NAME": "shapes_warehouse"},
}
DATABASE_ROUTERS = ["routers.Warehouse"]
"""
ROUTER = """class Warehouse:
    def allow_migrate(self, db, app_label, **hints):
        return (db == "warehouse") == (app_label == "metrics")
"""
SAMPLE = MODELS + "class Sample(models.Model):\n    value = models.FloatField()\n"


def test_a_migration_routed_to_another_database_is_rendered_there(
    tmp_path: Path, pg_url: str
) -> None:
    repo, base, _ = project(
        tmp_path,
        ["memo", "metrics"],
        {
            "routers.py": ROUTER,
            "memo/models.py": NOTES,
            "memo/migrations/0001_initial.py": migration(
                [], create("Note", '("text", models.TextField())')
            ),
            "metrics/models.py": SAMPLE,
            "metrics/migrations/0001_initial.py": migration(
                [], create("Sample", '("value", models.FloatField())')
            ),
        },
        {
            "memo/models.py": NOTES + "    tag = models.TextField(null=True)\n",
            "memo/migrations/0002_note_tag.py": migration(
                [("memo", "0001_initial")],
                '        migrations.AddField("note", "tag", models.TextField(null=True)),\n',
            ),
            "metrics/models.py": SAMPLE + "\n    class Meta:\n"
            '        indexes = [models.Index(fields=["value"], name="sample_value_idx")]\n',
            "metrics/migrations/0002_sample_value_idx.py": migration(
                [("metrics", "0001_initial")],
                '        migrations.AddIndex("sample", models.Index(fields=["value"], '
                'name="sample_value_idx")),\n',
            ),
        },
        settings=ROUTED,
    )
    code, report = analyze(repo, base, "--database-url", pg_url)
    assert report.errors == [] and code == 1
    by_label = {m.label: m for m in report.migrations}
    assert set(by_label) == {"memo.0002_note_tag", "metrics.0002_sample_value_idx"}
    memo, index = by_label["memo.0002_note_tag"], by_label["metrics.0002_sample_value_idx"]
    assert memo.database == "default" and memo.statements
    assert index.database == "warehouse"
    [create_index] = index.statements
    assert create_index.sql.startswith('CREATE INDEX "sample_value_idx" ON "metrics_sample"')
    assert create_index.final.source == "traced" and create_index.final.blocks == "writes"
    assert "MR-LOCK-INDEX" in {f.rule for f in index.findings}
    from bot.render import render_markdown

    assert "`metrics.0002_sample_value_idx` on `warehouse`" in render_markdown(report)


# --- 10. untracked settings -----------------------------------------------------------------

LOCAL = "from local_settings import *  # noqa: F403 (written by CI, git-ignored)\n"


def test_an_untracked_settings_file_is_used_from_the_checkout(tmp_path: Path, pg_url: str) -> None:
    repo, base, head = project(
        tmp_path,
        ["memo"],
        {
            ".gitignore": "local_settings.py\n",
            "memo/models.py": NOTES,
            "memo/migrations/0001_initial.py": migration(
                [], create("Note", '("text", models.TextField())')
            ),
        },
        {
            "memo/models.py": NOTES + "    tag = models.TextField(null=True)\n",
            "memo/migrations/0002_note_tag.py": migration(
                [("memo", "0001_initial")],
                '        migrations.AddField("note", "tag", models.TextField(null=True)),\n',
            ),
        },
        settings=SETTINGS.format(apps=["memo"]).replace("USE_TZ = True\n", "") + LOCAL,
    )
    (repo / "local_settings.py").write_text("USE_TZ = True\n")
    # The checkout is the head: reviewed as it is.
    code, report = analyze(repo, base, "--database-url", pg_url)
    assert (code, report.errors) == (0, [])
    assert [m.label for m in report.migrations] == ["memo.0002_note_tag"]
    # GitHub's test merge commit of the head is the head's checkout too.
    git(repo, "checkout", "--quiet", "--detach", base)
    git(repo, "merge", "--quiet", "--no-ff", "-m", "Merge feature", head)
    code, report = analyze(repo, base, "--database-url", pg_url, "--head", head)
    assert (code, report.errors, report.head_sha) == (0, [], head)
    # Elsewhere the head is read from a worktree: the error names the file and what to pass.
    git(repo, "checkout", "--quiet", "main")
    code, report = analyze(repo, base, "--database-url", pg_url, "--head", head)
    assert code == 2
    [error] = report.errors
    assert "local_settings" in error.message
    assert error.hint and "--copy-untracked local_settings.py" in error.hint
    code, report = analyze(
        repo, base, "--database-url", pg_url, "--head", head, "--copy-untracked",
        "local_settings.py",
    )  # fmt: skip
    assert (code, report.errors) == (0, [])
