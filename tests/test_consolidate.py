"""One finding per decision, through the real pipeline: git, the collector, a scratch PostgreSQL,
classify, estimate, consolidate, render.

The projects are the demo's base with migrations written here, shaped like what real histories
show: twenty type changes on a configuration table, a lock_timeout missing in every migration,
NOT NULL changes, drops and renames under both deploy styles, an app's migrations reset.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo import FIXTURES
from bot.models import ChangeKind, Report, Risk
from bot.render import DEFAULT_MAX_CHARS, render_markdown
from tests.test_pipeline import PARTIAL_HEAD

IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
COLUMNS = [f"limit_{n:02}" for n in range(1, 21)]
FIELDS = "".join(f'                ("{c}", models.IntegerField(default=0)),\n' for c in COLUMNS)
ALTERS = "".join(
    f'        migrations.AlterField("setting", "{c}", models.SmallIntegerField(default=0)),\n'
    for c in COLUMNS
)

SETTINGS_TABLE = f"""from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.CreateModel(
            name="Setting",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
{FIELDS}
            ],
        ),
    ]
"""

SMALLINT = f"""from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_setting")]
    operations = [
{ALTERS}
    ]
"""


def add_field(n: int, previous: str) -> str:
    return f"""from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "{previous}")]
    operations = [migrations.AddField("order", "extra_{n}", models.IntegerField(null=True))]
"""


NOT_NULL = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AlterField("order", "note", models.TextField(blank=True, default="")),
    ]
"""

DROP_AND_RENAME = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.RemoveField("customer", "fax"),
        migrations.RenameField("product", "title", "name"),
    ]
"""


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def project(
    tmp_path: Path,
    head: dict[str, str | None],
    base: dict[str, str] | None = None,
) -> tuple[Path, str]:
    """The demo's base project plus ``base`` files, committed; then ``head`` (None deletes)."""
    repo = tmp_path / "project"
    shutil.copytree(FIXTURES / "base", repo, ignore=shutil.ignore_patterns("__pycache__"))
    write(repo, base or {})
    git(repo, "init", "--quiet", "--initial-branch=main")
    base_sha = commit(repo, "base")
    git(repo, "checkout", "--quiet", "-b", "feature")
    config = head.get(".migration-review.toml", "")
    write(repo, {**head, ".migration-review.toml": (config or "") + PARTIAL_HEAD})
    commit(repo, "head")
    return repo, base_sha


def write(repo: Path, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def analyze(repo: Path, base: str, *args: str, tmp_path: Path) -> tuple[int, Report, str]:
    """The analyze command's exit code and JSON report, and the review rendered from it."""
    out = tmp_path / "report.json"
    command = ["analyze", "--repo", str(repo), "--base", base, "--format", "json"]
    code = main([*command, "--output", str(out), *args])
    report = Report.model_validate_json(out.read_text())
    return code, report, render_markdown(report, max_chars=DEFAULT_MAX_CHARS)


def markdown(repo: Path, base: str, *args: str, tmp_path: Path) -> str:
    out = tmp_path / "review.md"
    main(["analyze", "--repo", str(repo), "--base", base, "--output", str(out), *args])
    return out.read_text()


def stats_file(tmp_path: Path, rows: int, table_bytes: int) -> Path:
    path = tmp_path / "stats.json"
    entry = {"table": "shop_setting", "rows": rows, "table_bytes": table_bytes}
    path.write_text(json.dumps([entry | {"index_bytes": 16384, "toast_bytes": 0}]))
    return path


SMALLINT_PROJECT = {"shop/migrations/0003_setting_smallint.py": SMALLINT}
SETTING_BASE = {"shop/migrations/0002_setting.py": SETTINGS_TABLE}


def test_twenty_type_changes_on_one_table_are_one_finding(tmp_path: Path, pg_bin: Path) -> None:
    repo, base = project(tmp_path, SMALLINT_PROJECT, base=SETTING_BASE)
    code, report, text = analyze(repo, base, tmp_path=tmp_path)
    assert report.errors == []
    [migration] = report.migrations
    [finding] = [f for f in migration.findings if f.rule == "MR-ALTER-COLUMN-TYPE"]
    assert finding.columns == COLUMNS
    assert len(finding.members) == 20 and finding.table == "shop_setting"
    assert {m.statement for m in finding.members} == set(range(20))
    assert finding.risk == Risk.critical
    assert len(text) < 15_000, len(text)
    # The type change's (as guidance: no file recipe rewrites a type), the lock_timeout note's.
    assert text.count("**Safer:**") == 1 and text.count("**Safer, as guidance") == 1
    assert all(f"`{c}`" in text for c in COLUMNS)
    assert "The decision depends on table sizes" in text
    assert text.count("this applies if `shop_setting` is large") == 1
    assert code == 1


def test_small_tables_with_statistics_drop_to_low(tmp_path: Path, pg_bin: Path) -> None:
    repo, base = project(tmp_path, SMALLINT_PROJECT, base=SETTING_BASE)
    small = stats_file(tmp_path, rows=3, table_bytes=8192)
    code, report, text = analyze(repo, base, "--table-stats", str(small), tmp_path=tmp_path)
    [finding] = [f for f in report.migrations[0].findings if f.rule == "MR-ALTER-COLUMN-TYPE"]
    assert (finding.risk, finding.risk_before) == (Risk.low, Risk.critical)
    assert finding.risk_note and "3 rows" in finding.risk_note and "< 1 s" in finding.risk_note
    assert report.migrations[0].risk == Risk.low and (code, report.decision) == (0, "pass")
    assert "`shop_setting` is small (3 rows, 8 kB)" in text
    assert "The decision depends on table sizes" not in text

    large = stats_file(tmp_path, rows=40_000_000, table_bytes=6 * 1024**3)
    code, report, _ = analyze(repo, base, "--table-stats", str(large), tmp_path=tmp_path)
    [finding] = [f for f in report.migrations[0].findings if f.rule == "MR-ALTER-COLUMN-TYPE"]
    assert (finding.risk, finding.risk_before, code) == (Risk.critical, None, 1)

    # The threshold is the team's: 10 minutes makes the large table small too.
    args = ("--table-stats", str(large), "--small-table-seconds", "36000")
    code, report, _ = analyze(repo, base, *args, tmp_path=tmp_path)
    assert (report.small_table_seconds, report.migrations[0].risk, code) == (36000, Risk.low, 0)


FIVE = [f"000{n}_order_extra_{n}" for n in range(2, 7)]


def five_migrations() -> dict[str, str | None]:
    """Five migrations, each adding a column to shop_order without a lock_timeout."""
    names = ["0001_initial", *FIVE]
    return {
        f"shop/migrations/{name}.py": add_field(n, names[n - 2])
        for n, name in enumerate(FIVE, start=2)
    }


def test_five_migrations_without_lock_timeout_give_one_note(tmp_path: Path, pg_bin: Path) -> None:
    repo, base = project(tmp_path, five_migrations())
    code, report, text = analyze(repo, base, tmp_path=tmp_path)
    assert report.errors == [] and len(report.migrations) == 5
    assert all("MR-NO-LOCK-TIMEOUT" not in {f.rule for f in m.findings} for m in report.migrations)
    [note] = report.notes
    assert note.rule == "MR-NO-LOCK-TIMEOUT" and len(note.members) == 5
    assert {f.migration for f in note.members} == {f"shop.{n}" for n in FIVE}
    assert text.count("Blocking locks taken without a lock_timeout") == 1
    assert "### For the whole review" in text
    assert (code, report.risk) == (0, Risk.low)


def test_not_null_change_is_one_finding(tmp_path: Path, pg_bin: Path) -> None:
    repo, base = project(tmp_path, {"shop/migrations/0002_order_note.py": NOT_NULL})
    _, report, text = analyze(repo, base, tmp_path=tmp_path)
    high = [f for f in report.migrations[0].findings if f.risk >= Risk.high]
    assert [f.rule for f in high] == ["MR-SET-NOT-NULL"], [(f.rule, f.risk) for f in high]
    assert "MR-WORK-UNDER-HELD-LOCK" in high[0].rules
    assert "It also answers for `MR-WORK-UNDER-HELD-LOCK`" in text


def test_downtime_turns_the_deploy_order_rules_off(tmp_path: Path, pg_bin: Path) -> None:
    head = {"shop/migrations/0002_drop_and_rename.py": DROP_AND_RENAME}
    repo, base = project(tmp_path, head)
    code, report, text = analyze(repo, base, tmp_path=tmp_path)
    rules = {f.rule for f in report.migrations[0].findings}
    assert {"MR-DROP-COLUMN", "MR-RENAME-COLUMN"} <= rules and code == 1
    assert "deploy: `rolling` (the previous release serves while migrations run)" in text

    code, report, text = analyze(repo, base, "--deploy", "downtime", tmp_path=tmp_path)
    [migration] = report.migrations
    assert not {"MR-DROP-COLUMN", "MR-RENAME-COLUMN"} & {f.rule for f in migration.findings}
    assert {f.rule for f in migration.off} == {"MR-DROP-COLUMN", "MR-RENAME-COLUMN"}
    assert (report.deploy, code, report.decision) == ("downtime", 0, "pass")
    assert "deploy-order rules off" in text and "rule `MR-DROP-COLUMN`" not in text

    # The same from the config file at head.
    write(repo, {".migration-review.toml": 'deploy = "downtime"\n' + PARTIAL_HEAD})
    commit(repo, "we deploy with downtime")
    code, report, _ = analyze(repo, base, tmp_path=tmp_path)
    assert (report.deploy, code) == ("downtime", 0)


def test_downtime_lock_findings_speak_of_the_downtime(tmp_path: Path, pg_bin: Path) -> None:
    repo, base = project(tmp_path, SMALLINT_PROJECT, base=SETTING_BASE)
    _, report, _ = analyze(repo, base, "--deploy", "downtime", tmp_path=tmp_path)
    [finding] = [f for f in report.migrations[0].findings if f.rule == "MR-ALTER-COLUMN-TYPE"]
    assert 'With `deploy = "downtime"` nothing else waits on this lock' in finding.message
    assert "makes the downtime longer, by as long as the work takes" in finding.message


def test_downtime_table_work_of_unknown_size_is_medium(tmp_path: Path, pg_bin: Path) -> None:
    """Shaped like NetBox's 309e43406 (two columns of `extras_customfield` to numeric): with the
    application stopped, a rewrite blocks no one; only the table's size makes it matter."""
    repo, base = project(tmp_path, SMALLINT_PROJECT, base=SETTING_BASE)
    code, report, text = analyze(repo, base, "--deploy", "downtime", tmp_path=tmp_path)
    [finding] = [f for f in report.migrations[0].findings if f.rule == "MR-ALTER-COLUMN-TYPE"]
    assert (finding.risk, finding.risk_before) == (Risk.medium, Risk.critical)
    assert "without statistics for `shop_setting`" in text
    assert (code, report.decision) == (0, "pass")

    # A large table makes the downtime long: the estimate keeps it critical.
    large = stats_file(tmp_path, rows=40_000_000, table_bytes=6 * 1024**3)
    args = ("--deploy", "downtime", "--table-stats", str(large))
    code, report, _ = analyze(repo, base, *args, tmp_path=tmp_path)
    [finding] = [f for f in report.migrations[0].findings if f.rule == "MR-ALTER-COLUMN-TYPE"]
    assert (finding.risk, code) == (Risk.critical, 1)

    # Deployed rolling, the same rewrite of a table of unknown size stops production.
    code, report, _ = analyze(repo, base, tmp_path=tmp_path)
    [finding] = [f for f in report.migrations[0].findings if f.rule == "MR-ALTER-COLUMN-TYPE"]
    assert (finding.risk, code) == (Risk.critical, 1)


LOANS = "lending/migrations"


def reset_project(count: int) -> tuple[dict[str, str | None], dict[str, str]]:
    """Head and base files: ``count`` merged migrations of loans deleted, 0001_initial redone."""
    names = ["0001_initial"] + [f"{n:04}_loan_field_{n}" for n in range(2, count + 2)]
    base = {
        f"{LOANS}/{name}.py": note_migration(names[n - 1], f"field_{n + 1}")
        for n, name in enumerate(names[1:], start=1)
    }
    initial = (FIXTURES / "base" / LOANS / "0001_initial.py").read_text()
    head: dict[str, str | None] = {name: None for name in base}
    head[f"{LOANS}/0001_initial.py"] = initial.replace("max_length=200", "max_length=250")
    return head, base


def test_a_reset_is_one_decision(tmp_path: Path, pg_bin: Path) -> None:
    head, extra = reset_project(2)
    repo, base = project(tmp_path, head, base=extra)
    code, report, text = analyze(repo, base, tmp_path=tmp_path)
    assert report.errors == []
    [found] = report.resets
    assert found.app_label == "loans" and found.initial == ["loans.0001_initial"]
    assert found.deleted == ["loans.0002_loan_field_2", "loans.0003_loan_field_3"]
    assert {f.rule for f in found.finding.members} == {
        "MR-MIGRATION-DELETED",
        "MR-MIGRATION-MODIFIED",
    }
    deleted = [m for m in report.migrations if m.change == ChangeKind.deleted]
    assert [m.findings for m in deleted] == [[], []]
    assert (code, report.decision, report.risk) == (1, "fail", Risk.high)
    assert text.count("migrations reset") == 1
    assert "<details><summary>The 2 deleted migrations</summary>" in text
    assert "| `loans.0002_loan_field_2`" not in text  # folded away, not a row each
    assert "`manage.py migrate --fake loans 0001_initial`" in text


def note_migration(previous: str, field: str) -> str:
    return f"""from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("loans", "{previous}")]
    operations = [migrations.AddField("loan", "{field}", models.TextField(null=True))]
"""


def test_markdown_from_the_cli_keeps_to_max_chars(tmp_path: Path, pg_bin: Path) -> None:
    repo, base = project(tmp_path, SMALLINT_PROJECT, base=SETTING_BASE)
    full = markdown(repo, base, "--max-chars", "0", tmp_path=tmp_path)
    short = markdown(repo, base, "--max-chars", "3000", tmp_path=tmp_path)
    assert len(full) > 3000 >= len(short)
    assert "shortened to fit the comment size limit" in short
    assert "MR-ALTER-COLUMN-TYPE" in short and "```sql" not in short
    assert full.splitlines()[:2] == short.splitlines()[:2]
    # The JSON keeps everything whatever the budget.
    _, whole, _ = analyze(repo, base, "--max-chars", "100", tmp_path=tmp_path)
    assert len(whole.migrations[0].statements) == 20
    # The PR comment's degradation: the same parts kept (timings and the date differ by run).
    comment = render_markdown(whole, max_chars=3000)
    assert outline(short) == outline(comment) and len(comment) <= 3000


def outline(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("#", "|", "- ", "**"))]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('deploy = "blue-green"\n', "deploy"),
        ("small-table-seconds = -1\n", "small-table-seconds"),
    ],
)
def test_bad_policy_in_the_config_is_an_error(
    tmp_path: Path, pg_bin: Path, toml: str, message: str, capsys: pytest.CaptureFixture
) -> None:
    repo, base = project(tmp_path, {".migration-review.toml": toml})
    code = main(["analyze", "--repo", str(repo), "--base", base])
    assert code == 2
    assert message in capsys.readouterr().err


REFORMATTED = """# Reformatted, imports sorted: the same migration.
from django.db import migrations
from django.db import models as m


def fill(apps, schema_editor):
    apps.get_model("shop", "Order").objects.filter(extra_2=None).update(extra_2=0)


class Migration(migrations.Migration):

    dependencies = [
        ("shop", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            "order",
            "extra_2",
            m.IntegerField(null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
"""


def test_an_edit_that_changes_no_operation_is_low(tmp_path: Path, pg_bin: Path) -> None:
    fill = (
        "\n\ndef fill(apps, schema_editor):\n"
        '    apps.get_model("shop", "Order").objects.filter(extra_2=None).update(extra_2=0)\n'
    )
    original = add_field(2, "0001_initial").replace("\n\nclass", fill + "\n\nclass")
    original = original.replace(
        "models.IntegerField(null=True))]",
        "models.IntegerField(null=True)),\n"
        "        migrations.RunPython(fill, migrations.RunPython.noop),\n    ]",
    )
    path = "shop/migrations/0002_order_extra_2.py"
    repo, base = project(tmp_path, {path: REFORMATTED}, base={path: original})
    code, report, text = analyze(repo, base, tmp_path=tmp_path)
    assert report.errors == []
    [migration] = report.migrations
    assert (migration.change, migration.same_as_base) == (ChangeKind.modified, True)
    [edit] = [f for f in migration.findings if f.rule == "MR-MIGRATION-MODIFIED"]
    assert (edit.risk, edit.risk_before) == (Risk.low, Risk.high)
    assert "the edit changes nothing Django runs" in text
    assert (code, report.decision) == (0, "pass")

    # Changing what the function does is an edit that matters.
    write(repo, {path: REFORMATTED.replace("update(extra_2=0)", "update(extra_2=1)")})
    commit(repo, "fill with 1")
    code, report, _ = analyze(repo, base, tmp_path=tmp_path)
    [migration] = report.migrations
    [edit] = [f for f in migration.findings if f.rule == "MR-MIGRATION-MODIFIED"]
    assert (migration.same_as_base, edit.risk, code) == (False, Risk.high, 1)
    assert migration.same_end_schema is None  # the project state does not show what it does


def test_edits_of_several_merged_migrations_are_one_decision(tmp_path: Path, pg_bin: Path) -> None:
    merged = {
        f"shop/migrations/{name}.py": add_field(n, previous)
        for n, name, previous in (
            (2, "0002_order_extra_2", "0001_initial"),
            (3, "0003_order_extra_3", "0002_order_extra_2"),
        )
    }
    edited = {
        name: text.replace("IntegerField", "BigIntegerField") for name, text in merged.items()
    }
    repo, base = project(tmp_path, edited, base=merged)
    code, report, text = analyze(repo, base, tmp_path=tmp_path)
    assert report.errors == [] and [m.same_as_base for m in report.migrations] == [False, False]
    assert [m.same_end_schema for m in report.migrations] == [False, False]
    first, second = report.migrations
    [edit] = [f for f in first.findings if f.rule == "MR-MIGRATION-MODIFIED"]
    assert [f.migration for f in edit.members] == [
        "shop.0002_order_extra_2",
        "shop.0003_order_extra_3",
    ]
    assert "MR-MIGRATION-MODIFIED" not in {f.rule for f in second.findings}
    assert "MR-MIGRATION-MODIFIED" in second.elsewhere and second.risk < Risk.high
    assert text.count("**🔴 A merged migration was modified (2 migrations)**") == 1
    assert (code, report.decision) == (1, "fail")


def index_migration(previous: str, operation: str) -> str:
    return f"""from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "{previous}")]
    operations = [{operation}]
"""


ADD_INDEX = 'migrations.AddIndex("order", models.Index(fields=["quantity"], name="order_qty"))'
REMOVE_INDEX = 'migrations.RemoveIndex("order", "order_qty")'
EMPTIED = {
    "shop/migrations/0002_order_qty.py": index_migration("0001_initial", ""),
    "shop/migrations/0003_drop_order_qty.py": index_migration("0002_order_qty", ""),
}


def test_edits_after_which_every_database_has_the_same_schema_are_low(
    tmp_path: Path, pg_bin: Path
) -> None:
    """Shaped like healthchecks' fix for Django 5.1: an old migration added an index (with
    ``index_together``), a later one removed it; both are emptied."""
    merged = {
        "shop/migrations/0002_order_qty.py": index_migration("0001_initial", ADD_INDEX),
        "shop/migrations/0003_drop_order_qty.py": index_migration("0002_order_qty", REMOVE_INDEX),
    }
    repo, base = project(tmp_path, EMPTIED, base=merged)
    code, report, text = analyze(repo, base, tmp_path=tmp_path)
    assert report.errors == []
    assert [(m.same_as_base, m.same_end_schema) for m in report.migrations] == [(False, True)] * 2
    edits = [f for m in report.migrations for f in m.findings if f.rule == "MR-MIGRATION-MODIFIED"]
    assert [(f.risk, f.risk_before) for f in edits] == [(Risk.low, Risk.high)] * 2
    assert "not the schema it ends with" in text
    assert (code, report.decision) == (0, "pass")

    # Emptying only the first leaves fresh databases without the index production has.
    merged["shop/migrations/0003_drop_order_qty.py"] = index_migration("0002_order_qty", "")
    repo, base = project(tmp_path / "one", EMPTIED, base=merged)
    code, report, _ = analyze(repo, base, tmp_path=tmp_path)
    [migration] = report.migrations
    [edit] = [f for f in migration.findings if f.rule == "MR-MIGRATION-MODIFIED"]
    assert (migration.same_end_schema, edit.risk, code) == (False, Risk.high, 1)


NOT_NULL_ADDED = """import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField(
            "order", "grace", models.DurationField(default=datetime.timedelta(hours=1))
        ),
    ]
"""


def test_an_unchanged_edit_carries_no_finding_of_what_the_migration_does(
    tmp_path: Path, pg_bin: Path
) -> None:
    """Shaped like healthchecks' c82c1a3a: ``timedelta`` imported as ``td`` in old migrations
    that add NOT NULL columns; they were applied long ago and do the same now."""
    path = "shop/migrations/0002_order_grace.py"
    renamed = NOT_NULL_ADDED.replace("import datetime\n", "from datetime import timedelta as td\n")
    renamed = renamed.replace("datetime.timedelta(", "td(")
    repo, base = project(tmp_path, {path: renamed}, base={path: NOT_NULL_ADDED})
    code, report, _ = analyze(repo, base, tmp_path=tmp_path)
    assert report.errors == []
    [migration] = report.migrations
    [edit] = migration.findings
    assert (edit.rule, edit.risk) == ("MR-MIGRATION-MODIFIED", Risk.low)
    assert "MR-NOT-NULL-WITHOUT-DB-DEFAULT" in {f.rule for f in edit.folded}
    assert (code, report.decision) == (0, "pass")


def test_an_edit_that_restores_the_released_version_is_low(tmp_path: Path, pg_bin: Path) -> None:
    """Shaped like NetBox's 77376524f: a migration released in a tag, its dependencies edited
    on the branch since, and a fix that puts back the released file byte for byte."""
    path = "shop/migrations/0002_order_extra_2.py"
    released = REFORMATTED
    edited = REFORMATTED.replace("update(extra_2=0)", "update(extra_2=1)")
    repo, released_sha = project(tmp_path, {path: edited}, base={path: released})
    git(repo, "tag", "v1.0", released_sha)
    edited_sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "-b", "restore")
    write(repo, {path: released})
    commit(repo, "restore the released migration")
    code, report, text = analyze(repo, edited_sha, tmp_path=tmp_path)
    assert report.errors == []
    [migration] = report.migrations
    assert (migration.same_as_base, migration.restores_release) == (False, "v1.0")
    [edit] = [f for f in migration.findings if f.rule == "MR-MIGRATION-MODIFIED"]
    assert (edit.risk, edit.risk_before) == (Risk.low, Risk.high)
    assert "restores the version released in `v1.0`" in text
    assert (code, report.decision) == (0, "pass")

    # Without the release tag, the same edit is one databases may never run.
    git(repo, "tag", "--delete", "v1.0")
    code, report, _ = analyze(repo, edited_sha, tmp_path=tmp_path)
    [migration] = report.migrations
    [edit] = [f for f in migration.findings if f.rule == "MR-MIGRATION-MODIFIED"]
    assert (migration.restores_release, edit.risk, code) == (None, Risk.high, 1)


HELD_FILL = """from django.db import migrations, models


def fill(apps, schema_editor):
    apps.get_model("shop", "Order").objects.update(extra_2=0)


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("order", "extra_2", models.IntegerField(null=True)),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
"""


def test_downtime_work_under_a_held_lock_is_medium(tmp_path: Path, pg_bin: Path) -> None:
    """Shaped like NetBox's dcim.0219 (e73db97d4): a column added, then a RunPython filling it
    in the same transaction, which keeps the ADD COLUMN's ACCESS EXCLUSIVE lock."""
    repo, base = project(tmp_path, {"shop/migrations/0002_order_extra_2.py": HELD_FILL})
    code, report, _ = analyze(repo, base, tmp_path=tmp_path)
    [held] = [f for f in report.migrations[0].findings if f.rule == "MR-WORK-UNDER-HELD-LOCK"]
    assert (held.risk, code) == (Risk.high, 1)

    code, report, text = analyze(repo, base, "--deploy", "downtime", tmp_path=tmp_path)
    [held] = [f for f in report.migrations[0].findings if f.rule == "MR-WORK-UNDER-HELD-LOCK"]
    assert (held.risk, held.risk_before) == (Risk.medium, Risk.high)
    assert "cannot be estimated" in text
    assert (code, report.decision) == (0, "pass")
