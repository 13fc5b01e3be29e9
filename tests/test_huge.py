"""Migrations of hundreds and thousands of operations, through the real collector and CLI.

1,800 ``RunSQL("CREATE TABLE ... (id serial PRIMARY KEY)")`` in one atomic migration hold 5,400
locks, more than a default cluster's lock table has room for ("out of shared memory"), and
every statement's trace once re-read and re-reported every lock held before it: the review must
finish, show its progress, and report each statement's own locks only. The rollback rehearsal
of a hundred CreateModel re-reported, at each DROP TABLE, the locks of every table dropped
before it; applying and the rehearsal run between the project states rendering built, so a few
hundred CreateModel are rehearsed (Django's own reverse would build each state again: minutes).
Ten thousand cannot be rendered in time (Django copies the whole state before each operation,
sqlmigrate too): the review stops before its time limit and says which operation it reached and
what to do. The classifier's work grows with the migration, not with its square, and so does the
tracer's and Django's: counted, not timed.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
import pytest

from bot import __version__
from bot.classify import Schema, backend_for, review_migration
from bot.classify.source import parse
from bot.collect import collect
from bot.collector.mr_collector import db
from bot.collector.mr_collector.cluster import MARKER
from bot.collector.mr_collector.trace import Tracer
from bot.consolidate import consolidate
from bot.demo import FIXTURES, build_repository
from bot.estimate import estimate_migration
from bot.models import ChangeKind, CollectedMigration, MigrationFile, Report, Risk
from bot.render import render_markdown
from tests.test_pipeline import commit, git

ROOT = Path(__file__).resolve().parent.parent
TABLES = 1800
FIRST = 120
THEN = 250
"""CreateModel operations of two migrations, the second after the first: Django's own reverse of
the second renders about 63,000 models, which the rehearsal (replaying states) does not."""


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
def test_hundreds_of_new_models_are_rehearsed_with_their_own_locks(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "base", project)
    git(project, "init", "--quiet", "--initial-branch=main")
    base = commit(project, "the demo's base")
    shop = project / "shop" / "migrations" / "0002_models.py"
    shop.write_text(create_models([("shop", "0001_initial")], FIRST))
    # After the shop's: its reverse renders those models too.
    loans = project / "lending" / "migrations" / "0002_models.py"
    after = [("loans", "0001_initial"), ("shop", "0002_models")]
    loans.write_text(create_models(after, THEN))
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
    first, then = reviewed["shop.0002_models"], reviewed["loans.0002_models"]
    assert (first.error, then.error) == (None, None)
    progress = rf"loans\.0002_models \(new migration \d of 2\), operation \d+ of {THEN}: "
    assert re.search(progress + r"Create model M\d+\n", done.stderr)
    # One DROP TABLE per model, each with what it did, not the locks of the ones before it.
    for migration, count in ((first, FIRST), (then, THEN)):
        assert migration.rollback is not None and migration.rollback.skipped is None
        drops = migration.rollback.statements
        assert len(drops) == count and all(s.sql.startswith("DROP TABLE") for s in drops)
        assert sum(len(s.trace.held) for s in drops if s.trace) <= count
    assert "**Rollback rehearsal**: not run" not in render_markdown(report)


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


COLUMNS = 300


def test_a_statement_reads_the_columns_the_migration_added_once_not_at_every_statement(
    pg_url: str,
) -> None:
    """Hundreds of ADD COLUMN on one table in one transaction, traced: the work of tracing the
    last one is that of the first, not of every column added before it, and a NOT NULL change
    is still seen on any column, old or added, by a statement naming it or not."""
    name = f"mr_test_wide_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{MARKER}'")
    url = db.with_database(pg_url, name)
    try:
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE wide (id int PRIMARY KEY, a int NOT NULL, b int)")
            connection.commit()
            tracer = Tracer(connection, url)

            def traced(sql: str) -> dict[str, Any]:
                return tracer.trace(0, sql, lambda: connection.execute(sql).rowcount,
                                    in_transaction=True)  # fmt: skip

            work = [
                counted(lambda i=i: traced(f"ALTER TABLE wide ADD COLUMN c{i} int"))
                for i in range(COLUMNS)
            ]
            # The old reading grew by two steps per column: 600 here.
            assert abs(work[-1] - work[10]) <= work[10] // 20, (work[10], work[-1])
            assert traced("ALTER TABLE wide ALTER COLUMN c7 SET NOT NULL")["not_null_changed"] == [
                "wide.c7: null -> not null"
            ]
            assert traced("ALTER TABLE wide ALTER COLUMN a DROP NOT NULL")["not_null_changed"] == [
                "wide.a: not null -> null"
            ]
            traced("ALTER TABLE wide DROP COLUMN c3")
            traced("ALTER TABLE wide DROP CONSTRAINT wide_pkey")
            traced("CREATE UNIQUE INDEX wide_c9 ON wide (c9)")
            primary = traced(
                "ALTER TABLE wide ADD CONSTRAINT wide_pk PRIMARY KEY USING INDEX wide_c9"
            )
            assert primary["not_null_changed"] == ["wide.c9: null -> not null"]
            tracer.close()
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Appended to the reviewed project's settings: Django's own ProjectState.clone and
# ModelState.render, counted (each still does its work), the counts written when it exits.
COUNTING = """
import atexit as _atexit
from pathlib import Path as _Path

from django.db.migrations.state import ModelState as _ModelState, ProjectState as _ProjectState

_counts = {"clone": 0, "render": 0}


def _counting(method, name):
    def counted(*args, **kwargs):
        _counts[name] += 1
        return method(*args, **kwargs)

    return counted


_ProjectState.clone = _counting(_ProjectState.clone, "clone")
_ModelState.render = _counting(_ModelState.render, "render")
_atexit.register(
    lambda: (_Path(__file__).parent.parent / "counts.txt").write_text(
        "{clone} {render}".format(**_counts)
    )
)
"""


def state_work(tmp_path: Path, pg_url: str, fields: int) -> tuple[int, int]:
    """Django's project-state copies and model renders while the collector renders, applies
    and rehearses a migration of ``fields`` AddField, traced."""
    project = tmp_path / f"project{fields}"
    shutil.copytree(FIXTURES / "base", project)
    with (project / "demo" / "settings.py").open("a") as settings:
        settings.write(COUNTING)
    operations = "".join(
        f"        migrations.AddField('customer', 'f{i}', models.IntegerField(null=True)),\n"
        for i in range(fields)
    )
    (project / "shop" / "migrations" / "0002_fields.py").write_text(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0001_initial')]\n"
        f"    operations = [\n{operations}    ]\n"
    )
    files = [MigrationFile(path="shop/migrations/0002_fields.py", change=ChangeKind.added)]
    output = collect(project, files, python=None, settings=None, database_url=pg_url)
    [migration] = output.migrations
    assert migration.error is None and migration.rollback is not None
    assert migration.rollback.skipped is None and len(migration.rollback.statements) == fields
    clones, renders = map(int, (project / "counts.txt").read_text().split())
    return clones, renders


def test_applying_and_rehearsing_run_between_the_states_rendering_built(
    tmp_path: Path, pg_url: str
) -> None:
    """sqlmigrate copies the project state before each operation, and an AddField renders its
    model (and those related to it) again: that much per operation is Django's, once. Applying,
    migrating backwards and forwards again run between the states rendering met, copying and
    rendering nothing more (they did it four times over before: each copy of a wide model's
    state is work and memory that grows with the fields added before it)."""
    one, two = state_work(tmp_path, pg_url, 20), state_work(tmp_path, pg_url, 40)
    clones, renders = two[0] - one[0], two[1] - one[1]
    assert clones == 20, (one, two)
    assert renders <= 3 * 20, (one, two)


MODELS = 10_000
LIMIT = 40


@pytest.mark.usefixtures("pg_bin")
def test_a_migration_too_big_to_render_in_time_ends_before_the_limit_saying_what_to_do(
    tmp_path: Path,
) -> None:
    """Ten thousand CreateModel: Django copies the whole project state before each operation
    (sqlmigrate alone takes over 20 minutes for half as many), so the review cannot finish in
    40 s. It stops before the limit, with the migration's error saying where and what to do,
    not with a bare timeout."""
    project = tmp_path / "project"
    base, _ = build_repository(project)
    migration = project / "shop" / "migrations" / "0009_huge.py"
    migration.write_text(create_models([("shop", "0008_remove_customer_fax")], MODELS))
    head = commit(project, "ten thousand models")
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "analyze", "--repo", str(project), "--base", base,
         "--head", head, "--python", sys.executable, "--format", "json", "--output", str(out),
         "--timeout", str(LIMIT)],
        cwd=ROOT, capture_output=True, text=True, timeout=LIMIT + 60,
    )  # fmt: skip
    assert "did not finish within" not in done.stderr, done.stderr[-3000:]
    report = Report.model_validate_json(out.read_text())
    [huge] = [m for m in report.migrations if m.name == "0009_huge"]
    assert huge.error is not None, done.stderr[-3000:]
    message = huge.error.message
    assert message.startswith("not reviewed: stopped while its SQL was rendered, at ")
    position = r"shop\.0009_huge \(new migration 11 of 11\), operation (\d+) of 10000: Create model"
    reached = re.search(position, message)
    assert reached and 1 < int(reached.group(1)) < MODELS, message
    assert f"before its {LIMIT} s time limit" in message
    assert "Django copies the whole project state before each of its 10,000 operations" in message
    assert "`sqlmigrate`" in message and "square" in message
    assert huge.error.hint and huge.error.hint.startswith("split it into migrations")
    assert "--timeout" in huge.error.hint
    assert "split it into migrations" in render_markdown(report)
    # Verifying the alternatives of the migrations before it would take another time limit.
    verifications = {
        f.alternative.verification for m in report.migrations for f in m.findings if f.alternative
    }
    assert verifications and all(
        v and v.startswith("not verified: the review stopped at shop.0009_huge")
        for v in verifications
    ), verifications


def test_cutting_a_migration_into_operations_grows_with_its_operations_not_their_square() -> None:
    """A safer alternative is cut from the migration's own text, operation by operation: each
    cut reads its own lines, not the whole file again (an AddIndex per finding made the
    alternatives of 200 AddIndex take a minute)."""

    def text(count: int) -> str:
        operations = "".join(
            "        migrations.AddIndex(\n            model_name='product',\n"
            f"            index=models.Index(fields=['sku'], name='sku_{i}'),\n        ),\n"
            for i in range(count)
        )
        return (
            "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
            "    dependencies = [('shop', '0001_initial')]\n"
            f"    operations = [\n{operations}    ]\n"
        )

    texts = [text(k * PAIRS) for k in (1, 2, 3)]
    assert [len(parse(t, "0002_indexes.py").operations) for t in texts] == [40, 80, 120]
    one, two, three = (counted(lambda t=t: parse(t, "0002_indexes.py")) for t in texts)
    assert abs(three - 2 * two + one) <= one // 100, (one, two, three)
