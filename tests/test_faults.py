"""Failures that are not the migration's, through the real CLI on a real PostgreSQL.

The scratch database lost under the review (here: its server ends the migration's session, as
a restart or an administrator does) must be reported as the scratch database's failure, never
as "it would fail in production too".
"""

from __future__ import annotations

import sys

import pytest

from bot.cli import main
from bot.demo import build_repository
from bot.models import Report
from tests.test_pipeline import commit

CUT_OFF = """from django.db import migrations


def cut_off(apps, schema_editor):
    schema_editor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


class Migration(migrations.Migration):
    dependencies = [("shop", "0008_remove_customer_fax")]
    operations = [migrations.RunPython(cut_off, migrations.RunPython.noop)]
"""


@pytest.fixture(scope="module")
def cut_off_report(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Report:
    project = tmp_path_factory.mktemp("faults") / "project"
    base, _ = build_repository(project)
    (project / "shop" / "migrations" / "0009_cut_off.py").write_text(CUT_OFF)
    head = commit(project, "the server goes away")
    out = project.parent / "report.json"
    args = ["analyze", "--repo", str(project), "--base", base, "--head", head]
    args += ["--python", sys.executable, "--database-url", pg_url]
    assert main([*args, "--format", "json", "--output", str(out)]) == 2
    return Report.model_validate_json(out.read_text())


def test_a_lost_scratch_database_is_not_blamed_on_the_migration(cut_off_report: Report) -> None:
    [migration] = [m for m in cut_off_report.migrations if m.name == "0009_cut_off"]
    assert migration.error is not None
    assert migration.error.message.startswith("the scratch database failed while it was applied")
    assert "not the migration's" in (migration.error.hint or "")
    assert "fail in production too" not in (migration.error.hint or "")
    assert cut_off_report.decision == "error"


def test_the_migrations_before_it_are_still_reviewed(cut_off_report: Report) -> None:
    reviewed = [m for m in cut_off_report.migrations if m.name != "0009_cut_off"]
    assert len(reviewed) == 10 and all(m.error is None for m in reviewed)
