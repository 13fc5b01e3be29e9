"""The shapes that broke reviews on real projects, each reviewed end to end through ``analyze``
on a real PostgreSQL, in a real git repository built by ``tests/shapes.py``."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.cli import main
from bot.models import Report
from tests.shapes import SETTINGS, commit, git, migration, project

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
    [dml] = [f for f in m.findings if f.rule == "MR-DML"]
    assert "every NULL row gets the same value" in dml.message
    assert any("every NULL row gets the same value" in note for note in fill.final.notes)


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


# --- 8. messages --------------------------------------------------------------------------

QUIET = """from django.db.migrations.operations.base import Operation


class Checkpoint(Operation):
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        return ""


"""


def test_messages_name_what_they_are_about(tmp_path: Path, pg_url: str) -> None:
    tag_notes = (
        QUIET + "def fill(apps, schema_editor):\n"
        '    apps.get_model("memo", "Note").objects.update(tag="new")\n\n\n'
        + migration(
            [("memo", "0001_initial")],
            '        migrations.AddField("note", "tag", models.TextField(null=True)),\n'
            "        migrations.RunPython(fill, migrations.RunPython.noop),\n"
            "        Checkpoint(),\n",
        )
    )
    repo, base, _ = project(
        tmp_path,
        ["memo"],
        {
            "memo/models.py": NOTES + "    tag = models.TextField(null=True)\n",
            "memo/migrations/0001_initial.py": migration(
                [], create("Note", '("text", models.TextField())')
            ),
            "memo/migrations/0002_note_tag.py": tag_notes,
        },
        # renamed after it was merged: the same file under another name
        {"memo/migrations/0002_note_tag.py": None, "memo/migrations/0002_tag_notes.py": tag_notes},
    )
    _, report = analyze(repo, base, "--database-url", pg_url)
    assert report.errors == []
    [m] = report.migrations
    [renamed] = [f for f in m.findings if f.rule == "MR-MIGRATION-RENAMED"]
    assert "`memo/migrations/0002_note_tag.py` was renamed to" in renamed.message
    assert "`memo/migrations/0002_tag_notes.py`" in renamed.message
    [held] = [f for f in m.findings if f.rule == "MR-WORK-UNDER-HELD-LOCK"]
    assert held.operation == 1
    assert held.message.startswith("The operation `RunPython(fill)` does work")
    assert "this statement" not in (held.message + (held.safer or "")).lower()
    assert "Raw Python operation" not in held.message + (held.safer or "")
    from bot.render import render_markdown

    text = render_markdown(report)
    assert not any(line.rstrip().endswith(";") for line in text.splitlines() if "Add field" in line)


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


# --- 3. NOT NULL without a database default -------------------------------------------------

COUNTER = MODELS + "class Counter(models.Model):\n    name = models.TextField()\n"


def not_null_project(tmp_path: Path, head: dict[str, str | None]) -> tuple[Path, str, str]:
    return project(
        tmp_path,
        ["tally"],
        {
            "tally/models.py": COUNTER,
            "tally/migrations/0001_initial.py": migration(
                [], create("Counter", '("name", models.TextField())')
            ),
        },
        head,
    )


def test_a_not_null_column_without_a_database_default_breaks_the_old_release(
    tmp_path: Path, pg_url: str
) -> None:
    repo, base, _ = not_null_project(
        tmp_path,
        {
            "tally/models.py": COUNTER + "    hits = models.IntegerField(default=0)\n",
            "tally/migrations/0002_counter_hits.py": migration(
                [("tally", "0001_initial")],
                '        migrations.AddField("counter", "hits", models.IntegerField(default=0)),\n',
            ),
        },
    )
    code, report = analyze(repo, base, "--database-url", pg_url)
    assert report.errors == [] and code == 1
    [m] = report.migrations
    [finding] = [f for f in m.findings if f.rule == "MR-NOT-NULL-WITHOUT-DB-DEFAULT"]
    assert finding.risk == "high" and finding.operation == 0
    assert "DROP DEFAULT" in finding.message and "INSERT" in finding.message
    assert finding.safer and "db_default=0" in finding.safer


def test_db_default_and_a_new_table_are_not_flagged(tmp_path: Path, pg_url: str) -> None:
    repo, base, _ = not_null_project(
        tmp_path,
        {
            "tally/models.py": COUNTER
            + "    hits = models.IntegerField(db_default=0)\n\n\nclass Day(models.Model):\n"
            "    hits = models.IntegerField(default=0)\n",
            "tally/migrations/0002_counter_hits.py": migration(
                [("tally", "0001_initial")],
                '        migrations.AddField("counter", "hits", models.IntegerField(db_default=0)),'
                "\n" + create("Day", '("hits", models.IntegerField(default=0))'),
            ),
            "tally/migrations/0003_day_total.py": migration(
                [("tally", "0002_counter_hits")],
                '        migrations.AddField("day", "total", models.IntegerField(default=0)),\n',
            ),
        },
    )
    (repo / "tally/models.py").write_text(
        (repo / "tally/models.py").read_text() + "    total = models.IntegerField(default=0)\n"
    )
    commit(repo, "the model too")
    _, report = analyze(repo, base, "--database-url", pg_url)
    assert report.errors == []
    assert "MR-NOT-NULL-WITHOUT-DB-DEFAULT" not in {f.rule for f in report.findings}


# --- 4. conflicts ---------------------------------------------------------------------------


def test_two_leaf_migrations_in_one_app_are_a_conflict(tmp_path: Path, pg_url: str) -> None:
    pinned, tag = (
        "    pinned = models.BooleanField(null=True)\n",
        "    tag = models.TextField(null=True)\n",
    )
    repo, base, _ = project(
        tmp_path,
        ["memo"],
        {
            "memo/models.py": NOTES + pinned,
            "memo/migrations/0001_initial.py": migration(
                [], create("Note", '("text", models.TextField())')
            ),
            # landed on main after the pull request branched off: the test merge has both
            "memo/migrations/0002_note_pinned.py": migration(
                [("memo", "0001_initial")],
                '        migrations.AddField("note", "pinned", models.BooleanField(null=True)),\n',
            ),
        },
        {
            "memo/models.py": NOTES + pinned + tag,
            "memo/migrations/0002_note_tag.py": migration(
                [("memo", "0001_initial")],
                '        migrations.AddField("note", "tag", models.TextField(null=True)),\n',
            ),
        },
    )
    code, report = analyze(repo, base, "--database-url", pg_url)
    assert report.errors == [] and code == 1
    [conflict] = report.project_findings
    assert (conflict.rule, conflict.risk) == ("MR-MIGRATION-CONFLICT", "high")
    assert conflict.file == "memo/migrations/0002_note_tag.py"
    assert "0002_note_pinned" in conflict.message and "0002_note_tag" in conflict.message
    assert conflict.safer and "makemigrations --merge memo" in conflict.safer
    assert [m.label for m in report.migrations] == ["memo.0002_note_tag"]


# --- 5. missing migrations ------------------------------------------------------------------


def test_a_model_change_without_its_migration_is_found_with_no_migration_file_touched(
    tmp_path: Path,
) -> None:
    repo, base, _ = project(
        tmp_path,
        ["memo"],
        {
            "memo/models.py": NOTES,
            "memo/migrations/0001_initial.py": migration(
                [], create("Note", '("text", models.TextField())')
            ),
        },
        {"memo/models.py": NOTES + "    archived = models.BooleanField(default=False)\n"},
    )
    code, report = analyze(repo, base)  # no database: the check needs none
    assert report.errors == [] and report.files == [] and code == 1
    [missing] = report.project_findings
    assert (missing.rule, missing.risk) == ("MR-MISSING-MIGRATION", "high")
    assert missing.file == "memo/models.py"
    assert "memo/migrations/0002_note_archived.py" in missing.message
    assert "Add field archived to note" in missing.message
    assert missing.safer and "python manage.py makemigrations memo" in missing.safer
    assert report.database in (None, "")  # no scratch database was made


def test_a_migration_already_missing_at_the_merge_base_is_medium(tmp_path: Path) -> None:
    """Shaped like NetBox on a range where the models were ahead of their migrations before the
    pull request (a dependency's model change): the pull request touches something else."""
    ahead = NOTES + "    archived = models.BooleanField(default=False)\n"
    repo, base, _ = project(
        tmp_path,
        ["memo"],
        {
            "memo/models.py": ahead,
            "memo/migrations/0001_initial.py": migration(
                [], create("Note", '("text", models.TextField())')
            ),
        },
        {"memo/views.py": "# a change that touches no model\n"},
    )
    code, report = analyze(repo, base)
    assert report.errors == []
    [missing] = report.project_findings
    assert (missing.rule, missing.risk, missing.risk_before) == (
        "MR-MISSING-MIGRATION",
        "medium",
        "high",
    )
    assert "already lacks this migration" in missing.message
    assert (code, report.decision) == (0, "pass")

    # A pull request that adds to the gap is the one that forgot a migration.
    git(repo, "checkout", "--quiet", "-b", "more")
    (repo / "memo/models.py").write_text(
        ahead + "    pinned = models.BooleanField(default=False)\n"
    )
    commit(repo, "pinned")
    code, report = analyze(repo, base)
    [missing] = report.project_findings
    assert "Add field pinned to note" in missing.message
    assert (missing.risk, code) == ("high", 1)


KINDS = '[("email", "Email"), ("sms", "SMS")]'


@pytest.mark.parametrize(
    ("change", "risk"),
    [
        # A choice added (healthchecks' Channel.kind, commit after commit): no SQL.
        (f'kind = models.CharField(max_length=20, choices={KINDS[:-1]}, ("push", "Push")])', "low"),
        # The same with a longer column: ALTER COLUMN TYPE, the database changes.
        (f"kind = models.CharField(max_length=40, choices={KINDS})", "high"),
    ],
)
def test_a_missing_migration_of_choices_alone_is_low(
    tmp_path: Path, change: str, risk: str
) -> None:
    field = f"kind = models.CharField(max_length=20, choices={KINDS})"
    initial = create(
        "Note", '("text", models.TextField())', f'("kind", {field.removeprefix("kind = ")})'
    )
    repo, base, _ = project(
        tmp_path,
        ["memo"],
        {
            "memo/models.py": NOTES + f"    {field}\n",
            "memo/migrations/0001_initial.py": migration([], initial),
        },
        {"memo/models.py": NOTES + f"    {change}\n"},
    )
    code, report = analyze(repo, base)
    assert report.errors == []
    [missing] = report.project_findings
    assert (missing.rule, missing.risk) == ("MR-MISSING-MIGRATION", risk)
    assert "Alter field kind on note" in missing.message
    assert ("the migration has no SQL" in missing.message) == (risk == "low")
    assert (code, report.decision) == ((0, "pass") if risk == "low" else (1, "fail"))


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


# --- 7. rollback rehearsal ------------------------------------------------------------------


def test_each_migration_is_rolled_back_and_forward_again_traced(
    tmp_path: Path, pg_url: str
) -> None:
    repo, base, _ = project(
        tmp_path,
        ["memo"],
        {
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
            "memo/migrations/0003_fill_tags.py": "def fill(apps, schema_editor):\n"
            '    apps.get_model("memo", "Note").objects.update(tag="new")\n\n\n'
            + migration([("memo", "0002_note_tag")], "        migrations.RunPython(fill),\n"),
        },
    )
    _, report = analyze(repo, base, "--database-url", pg_url)
    assert report.errors == []
    added, filled = report.migrations
    assert added.rollback is not None and added.rollback.error is None
    [drop] = added.rollback.statements
    assert drop.sql == 'ALTER TABLE "memo_note" DROP COLUMN "tag" CASCADE;'
    assert ("memo_note", "AccessExclusiveLock") in {
        (lock.relation, lock.mode) for lock in drop.trace.locks
    }
    assert "MR-ROLLBACK-FAILS" not in {f.rule for f in added.findings}
    [finding] = [f for f in filled.findings if f.rule == "MR-ROLLBACK-FAILS"]
    assert finding.risk == "medium" and finding.operation == 0
    assert "Django raises IrreversibleError" in finding.message
    assert finding.safer and "migrations.RunPython.noop" in finding.safer


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


# --- 7. the verification's copy of the repository -------------------------------------------

USERS = MODELS + "class User(models.Model):\n    name = models.TextField()\n"


def test_a_file_the_verification_cannot_copy_is_an_error_naming_it(tmp_path: Path) -> None:
    """Shaped like NetBox's c0e4d1c1e reviewed in its checkout: ``is_staff`` dropped (a drop
    column, so a safer alternative to verify), and in the checkout a file the copy the
    verification runs in cannot take (here a server's socket where Python source would be:
    the copy links other files, and copies Python source)."""
    initial = create(
        "User", '("name", models.TextField())', '("is_staff", models.BooleanField(default=False))'
    )
    drop = '        migrations.RemoveField(model_name="user", name="is_staff"),\n'
    repo, base, _ = project(
        tmp_path,
        ["users"],
        {
            "users/models.py": USERS + "    is_staff = models.BooleanField(default=False)\n",
            "users/migrations/0001_initial.py": migration([], initial),
        },
        {
            "users/models.py": USERS,
            "users/migrations/0002_user_remove_is_staff.py": migration(
                [("users", "0001_initial")], drop
            ),
        },
    )
    (repo / "run").mkdir()
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(repo / "run" / "app.py"))
    try:
        code, report = analyze(repo, base)
    finally:
        server.close()
    [error] = report.errors
    assert (error.stage, error.file) == ("alternative", "run/app.py")
    assert "copying the repository failed at run/app.py" in error.message
    [finding] = report.migrations[0].findings
    assert (finding.rule, finding.risk) == ("MR-DROP-COLUMN", "high")
    assert finding.alternative and "could not be verified" in (
        finding.alternative.verification or ""
    )
    assert (code, report.decision) == (2, "error")
