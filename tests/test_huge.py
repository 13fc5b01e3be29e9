"""Migrations of hundreds and thousands of operations, through the real collector and CLI.

1,800 ``RunSQL("CREATE TABLE ... (id serial PRIMARY KEY)")`` in one atomic migration hold 5,400
locks, more than a default cluster's lock table has room for ("out of shared memory"), and
every statement's trace once re-read and re-reported every lock held before it: the review must
finish, show its progress, and report each statement's own locks only. The rollback rehearsal
of a hundred CreateModel re-reported, at each DROP TABLE, the locks of every table dropped
before it; Django's reverse of a few hundred renders the project state again per operation
(minutes), so it is not rehearsed and the review says why. The classifier's work grows with
the migration, not with its square: counted, not timed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from bot import __version__
from bot.classify import Schema, backend_for, review_migration
from bot.collect import collect
from bot.consolidate import consolidate
from bot.demo import FIXTURES, build_repository
from bot.estimate import estimate_migration
from bot.models import ChangeKind, CollectedMigration, MigrationFile, Report, Risk
from bot.render import render_markdown
from tests.test_pipeline import commit, git

ROOT = Path(__file__).resolve().parent.parent
TABLES = 1800
REHEARSED = 120
"""CreateModel operations whose reverse Django renders about 7,800 models for: rehearsed."""
NOT_REHEARSED = 250
"""After those: about 63,000 renders, more than the rehearsal allows itself."""


@pytest.mark.usefixtures("pg_bin")
def test_thousands_of_lock_taking_operations_finish_with_progress(tmp_path: Path) -> None:
    project = tmp_path / "project"
    base, _ = build_repository(project)
    sql = "CREATE TABLE t{} (id serial PRIMARY KEY)"
    operations = "".join(
        f"        migrations.RunSQL({sql.format(i)!r}, migrations.RunSQL.noop),\n"
        for i in range(TABLES)
    )
    (project / "shop" / "migrations" / "0009_huge.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0008_remove_customer_fax')]\n"
        f"    operations = [\n{operations}    ]\n"
    )
    head = commit(project, "thousands of tables")
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "analyze", "--repo", str(project), "--base", base,
         "--head", head, "--python", sys.executable, "--format", "json", "--output", str(out),
         "--timeout", "400"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = json.loads(out.read_text())
    [huge] = [m for m in report["migrations"] if m["name"] == "0009_huge"]
    assert huge["error"] is None
    assert len(huge["statements"]) == TABLES
    assert "shop.0009_huge (new migration 11 of 11), operation " in done.stderr
    # Each statement reports what it did, not the thousands of locks held on tables it made.
    held = sum(len(s["trace"]["held"]) for s in huge["statements"] if s["trace"])
    assert held <= TABLES
    assert len(out.read_bytes()) < 4 * 1024 * TABLES


def create_models(dependencies: list[tuple[str, str]], count: int) -> str:
    models = "".join(
        f"        migrations.CreateModel(name='M{i}', fields=[('id', models.BigAutoField("
        "primary_key=True)), ('name', models.CharField(max_length=20))]),\n"
        for i in range(count)
    )
    return (
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        f"    dependencies = {dependencies!r}\n    operations = [\n{models}    ]\n"
    )


@pytest.mark.usefixtures("pg_bin")
def test_hundreds_of_new_models_are_rehearsed_with_their_own_locks_or_said_too_many(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "base", project)
    git(project, "init", "--quiet", "--initial-branch=main")
    base = commit(project, "the demo's base")
    shop = project / "shop" / "migrations" / "0002_models.py"
    shop.write_text(create_models([("shop", "0001_initial")], REHEARSED))
    # After the shop's: its reverse renders those models too.
    loans = project / "lending" / "migrations" / "0002_models.py"
    after = [("loans", "0001_initial"), ("shop", "0002_models")]
    loans.write_text(create_models(after, NOT_REHEARSED))
    head = commit(project, "hundreds of models")
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "analyze", "--repo", str(project), "--base", base,
         "--head", head, "--python", sys.executable, "--format", "json", "--output", str(out),
         "--timeout", "400"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = Report.model_validate_json(out.read_text())
    reviewed = {m.label: m for m in report.migrations}
    rehearsed, skipped = reviewed["shop.0002_models"], reviewed["loans.0002_models"]
    assert (rehearsed.error, skipped.error) == (None, None)
    progress = rf"loans\.0002_models \(new migration \d of 2\), operation \d+ of {NOT_REHEARSED}: "
    assert re.search(progress + r"Create model M\d+\n", done.stderr)
    # One DROP TABLE per model, each with what it did, not the locks of the ones before it.
    assert rehearsed.rollback is not None and rehearsed.rollback.skipped is None
    drops = rehearsed.rollback.statements
    assert len(drops) == REHEARSED and all(s.sql.startswith("DROP TABLE") for s in drops)
    assert sum(len(s.trace.held) for s in drops if s.trace) <= REHEARSED
    assert skipped.rollback is not None and skipped.rollback.statements == []
    assert f"Django's reverse of its {NOT_REHEARSED} operations" in (skipped.rollback.skipped or "")
    assert "**Rollback rehearsal**: not run: Django's reverse" in render_markdown(report)


def counted(work: Callable[[], object]) -> int:
    """The lines ``work`` runs (each turn of a loop, in a comprehension too) and the functions
    it calls, C ones included: a measure of work that is not a time."""
    steps = 0

    def line(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal steps
        steps += event == "line"
        return line

    def call(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal steps
        steps += event in ("call", "c_call")

    sys.settrace(line)
    sys.setprofile(call)
    try:
        work()
    finally:
        sys.setprofile(None)
        sys.settrace(None)
    return steps


PAIRS = 40
NOOP = "def noop(apps, schema_editor):\n    pass\n\n\n"


def test_the_review_of_a_migration_grows_with_its_operations_not_their_square(
    tmp_path: Path, pg_url: str
) -> None:
    """Three migrations of k x 40 (AlterField, RunPython) pairs, k = 1, 2, 3, collected for real
    and traced, each reviewed as ``analyze`` does after the collector (classify, estimate,
    consolidate, the Markdown and JSON): the work grows by the same amount from one to the
    next, as work linear in the operations does. Work per operation over the ones before it
    would grow by more each time: its second difference would not be zero."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "base", project)
    files = []
    length = 200
    for k, name in enumerate(["0002_a", "0003_b", "0004_c"], start=1):
        operations = ""
        for _ in range(k * PAIRS):
            length += 1
            operations += (
                f"        migrations.AlterField('product', 'sku', "
                f"models.CharField(max_length={length})),\n"
                "        migrations.RunPython(noop, noop),\n"
            )
        parent = ["0001_initial", "0002_a", "0003_b"][k - 1]
        (project / "shop" / "migrations" / f"{name}.py").write_text(
            "from django.db import migrations, models\n\n\n" + NOOP
            + "class Migration(migrations.Migration):\n"
            f"    dependencies = [('shop', {parent!r})]\n    operations = [\n{operations}    ]\n"
        )  # fmt: skip
        files.append(MigrationFile(path=f"shop/migrations/{name}.py", change=ChangeKind.added))
    output = collect(project, files, python=None, settings=None, database_url=pg_url)
    migrations = output.migrations
    assert [len(m.operations) for m in migrations] == [2 * PAIRS, 4 * PAIRS, 6 * PAIRS]
    assert all(m.error is None and m.statements[0].trace for m in migrations)
    backend = backend_for("postgresql")

    def reviewed(migration: CollectedMigration) -> str:
        review = review_migration(migration, backend=backend, schema=Schema())
        estimate_migration(review, None, transactional_ddl=True)
        report = Report(tool_version=__version__, fail_on=Risk.high, migrations=[review])
        consolidate(report)
        return render_markdown(report) + report.model_dump_json()

    assert all("MR-DATA-MIGRATION" in reviewed(m) for m in migrations)  # and warm
    one, two, three = (counted(lambda m=m: reviewed(m)) for m in migrations)
    # Zero today; the loops this replaced made it 36,800, 1.3% of the smallest.
    assert abs(three - 2 * two + one) <= one // 1000, (one, two, three)
