"""What the tracer reads from PostgreSQL: locks, locks still held, rewrites, scans, constraints,
NOT NULL changes, and CONCURRENTLY statements watched from a second session."""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

import psycopg
import pytest

from bot.classify import backend_for, review_migration
from bot.classify.rules import RULES
from bot.collect import collect, trace_script
from bot.collector.mr_collector import db
from bot.collector.mr_collector.errors import CollectorError
from bot.collector.mr_collector.trace import Tracer, needs_own_session
from bot.errors import ReviewError
from bot.estimate import estimate_migration
from bot.models import (
    ChangeKind,
    CollectedMigration,
    CollectedStatement,
    CollectorOutput,
    Lock,
    MigrationFile,
    MigrationReview,
    Report,
    Risk,
    Trace,
)
from bot.render import render_markdown
from tests.test_collect import (
    SHOP,
    collected,  # noqa: F401 (the collected shop migrations fixture)
)

SETUP = """
CREATE TABLE shop_order (id bigint PRIMARY KEY, total integer, note text);
INSERT INTO shop_order SELECT g, g, 'x' FROM generate_series(1, 50) g;
"""


def traced(statements: list[CollectedStatement], index: int) -> Trace:
    trace = statements[index].trace
    assert trace is not None, statements[index].sql
    return trace


def locks(trace: Trace) -> set[tuple[str, str]]:
    return {(lock.relation, lock.mode) for lock in trace.locks}


def held(trace: Trace) -> set[tuple[str, str, int | None]]:
    return {(lock.relation, lock.mode, lock.since_statement) for lock in trace.held}


def test_rewrites_scans_and_constraints(pg_url: str) -> None:
    statements = trace_script(
        SETUP
        + """
        ALTER TABLE shop_order ALTER COLUMN total TYPE bigint;
        ALTER TABLE shop_order ADD COLUMN paid boolean DEFAULT false;
        ALTER TABLE shop_order ADD COLUMN token float DEFAULT random();
        ALTER TABLE shop_order ALTER COLUMN note SET NOT NULL;
        ALTER TABLE shop_order ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID;
        ALTER TABLE shop_order VALIDATE CONSTRAINT total_positive;
        UPDATE shop_order SET note = 'y' WHERE id <= 10;
        """,
        database_url=pg_url,
    ).statements
    assert [s.index for s in statements] == list(range(9))
    alter_type = traced(statements, 2)
    assert alter_type.method == "transaction"
    assert ("shop_order", "AccessExclusiveLock") in locks(alter_type)
    assert alter_type.rewritten == ["shop_order", "shop_order_pkey"]
    assert alter_type.scanned == ["shop_order"]
    constant_default = traced(statements, 3)
    assert constant_default.rewritten == [] and constant_default.scanned == []
    volatile_default = traced(statements, 4)
    assert "shop_order" in volatile_default.rewritten
    not_null = traced(statements, 5)
    assert not_null.not_null_changed == ["shop_order.note: null -> not null"]
    assert not_null.scanned == ["shop_order"] and not_null.rewritten == []
    not_valid, validate = traced(statements, 6), traced(statements, 7)
    assert [(c.name, c.type, c.validated) for c in not_valid.constraints] == [
        ("total_positive", "check", False)
    ]
    assert not_valid.scanned == []
    assert [(c.name, c.validated) for c in validate.constraints] == [("total_positive", True)]
    assert locks(validate) == {("shop_order", "ShareUpdateExclusiveLock")}
    assert validate.scanned == ["shop_order"]
    update = traced(statements, 8)
    assert update.rows == 10
    assert ("shop_order", "RowExclusiveLock") in locks(update)
    assert all(
        lock.created is False for s in statements[2:] for lock in traced(statements, s.index).locks
    )
    created = traced(statements, 0)
    assert all(lock.created for lock in created.locks)


def test_not_null_through_a_validated_check_skips_the_scan(pg_url: str) -> None:
    statements = trace_script(
        SETUP
        + """
        ALTER TABLE shop_order ADD CONSTRAINT note_present CHECK (note IS NOT NULL) NOT VALID;
        ALTER TABLE shop_order VALIDATE CONSTRAINT note_present;
        ALTER TABLE shop_order ALTER COLUMN note SET NOT NULL;
        """,
        database_url=pg_url,
    ).statements
    not_null = traced(statements, 4)
    assert not_null.not_null_changed == ["shop_order.note: null -> not null"]
    assert not_null.scanned == []  # PostgreSQL 12+: the validated CHECK proves it
    assert traced(statements, 3).scanned == ["shop_order"]


def test_locks_are_held_until_commit_in_an_explicit_transaction(pg_url: str) -> None:
    statements = trace_script(
        SETUP
        + """
        BEGIN;
        SET LOCAL lock_timeout = '2s';
        ALTER TABLE shop_order ADD COLUMN paid boolean;
        CREATE INDEX shop_order_paid ON shop_order (paid);
        UPDATE shop_order SET paid = true;
        COMMIT;
        SELECT count(*) FROM shop_order;
        """,
        database_url=pg_url,
    ).statements
    add, index, update = (traced(statements, i) for i in (4, 5, 6))
    assert locks(add) == {("shop_order", "AccessExclusiveLock")} and held(add) == set()
    assert add.lock_timeout == "2s"
    assert ("shop_order", "AccessExclusiveLock", 4) in held(index)
    assert ("shop_order", "ShareLock") in locks(index)
    index_lock = next(lock for lock in index.locks if lock.relation == "shop_order_paid")
    assert index_lock.created
    assert {("shop_order", "AccessExclusiveLock", 4), ("shop_order", "ShareLock", 5)} <= held(
        update
    )
    after = traced(statements, 8)
    assert held(after) == set() and ("shop_order", "AccessShareLock") in locks(after)
    assert {lock.mode for lock in after.locks} == {"AccessShareLock"}
    assert after.lock_timeout == "0"


def test_a_failing_statement_is_static_only_and_aborts_its_transaction(pg_url: str) -> None:
    statements = trace_script(
        SETUP
        + """
        BEGIN;
        ALTER TABLE missing ADD COLUMN x int;
        ALTER TABLE shop_order ADD COLUMN y int;
        COMMIT;
        ALTER TABLE shop_order ADD COLUMN z int;
        """,
        database_url=pg_url,
    ).statements
    failed, skipped, after = traced(statements, 3), traced(statements, 4), traced(statements, 6)
    assert failed.method == "static-only" and 'relation "missing"' in (failed.note or "")
    assert skipped.method == "static-only" and "statement 3" in (skipped.note or "")
    assert after.method == "transaction"


def test_concurrently_is_watched_from_a_second_session(pg_url: str) -> None:
    statements = trace_script(
        SETUP
        + """
        CREATE INDEX CONCURRENTLY shop_order_total ON shop_order (total);
        DROP INDEX CONCURRENTLY shop_order_total;
        """,
        database_url=pg_url,
    ).statements
    create, drop = traced(statements, 2), traced(statements, 3)
    assert create.method == "second-session" and create.note is None
    assert ("shop_order", "ShareUpdateExclusiveLock") in locks(create)
    assert ("shop_order", "ShareLock") not in locks(create)
    assert drop.method == "second-session" and drop.note is None
    assert ("shop_order", "ShareUpdateExclusiveLock") in locks(drop)


@pytest.mark.parametrize(
    ("sql", "own_session"),
    [
        ("CREATE INDEX CONCURRENTLY i ON t (a)", True),
        ("-- a comment first\nVACUUM t", True),
        ("/* a /* nested */ comment */ reindex table concurrently t", True),
        ("CREATE INDEX i ON t (a) -- not CONCURRENTLY: the table is small", False),
        ("CREATE INDEX /* CONCURRENTLY /* later */ maybe */ i ON t (a)", False),
        ("COMMENT ON TABLE t IS 'built CONCURRENTLY'", False),
        ("COMMENT ON TABLE t IS 'it''s CONCURRENTLY'", False),
        ("COMMENT ON TABLE t IS E'it\\'s CONCURRENTLY'", False),
        ("UPDATE t SET a = $$CONCURRENTLY$$", False),
        ("UPDATE t SET a = $x$ $$ CONCURRENTLY $x$", False),
        ('ALTER TABLE t ADD COLUMN "concurrently" int', False),
        ("COMMENT ON TABLE t IS 'x'; DROP INDEX CONCURRENTLY i", True),
    ],
)
def test_concurrently_counts_only_in_the_code(sql: str, own_session: bool) -> None:
    assert needs_own_session(sql) is own_session


def test_concurrently_in_a_comment_or_a_string_runs_in_a_transaction(pg_url: str) -> None:
    statements = trace_script(
        SETUP
        + """
        -- CREATE INDEX CONCURRENTLY would be safer, but the table is small
        CREATE INDEX shop_order_total ON shop_order (total);
        COMMENT ON TABLE shop_order IS 'build its indexes CONCURRENTLY';
        CREATE INDEX shop_order_total_again ON shop_order (total);  -- CONCURRENTLY?
        CREATE INDEX CONCURRENTLY /* the real thing */ shop_order_note ON shop_order (note);
        """,
        database_url=pg_url,
    ).statements
    for index in (2, 3, 4):
        assert traced(statements, index).method == "transaction", statements[index].sql
    assert ("shop_order", "ShareLock") in locks(traced(statements, 2))
    assert ("shop_order", "ShareLock") in locks(traced(statements, 4))
    assert traced(statements, 5).method == "second-session"


def test_trace_on_the_embedded_cluster(pg_bin: Path) -> None:
    result = trace_script(
        SETUP + "ALTER TABLE shop_order DROP COLUMN note;", database_url=None, pg_bin=pg_bin
    )
    assert result.database.startswith("embedded PostgreSQL")
    assert result.server_version_num and result.server_version_num >= 100000
    drop = traced(result.statements, 2)
    assert locks(drop) == {("shop_order", "AccessExclusiveLock")}
    assert drop.rewritten == [] and drop.scanned == []


def test_an_atomic_migration_holds_its_locks_to_commit(collected: CollectorOutput) -> None:  # noqa: F811
    migration = next(m for m in collected.migrations if m.name == "0007_price_bigint_stock")
    first = traced(migration.statements, 0)
    assert first.method == "transaction"
    assert ("store_product", "AccessExclusiveLock") in locks(first)
    assert first.rewritten and "store_product" in first.rewritten
    for statement in migration.statements[1:]:
        assert ("store_product", "AccessExclusiveLock", 0) in held(
            traced(migration.statements, statement.index)
        )
    set_not_null = traced(migration.statements, 5)
    assert set_not_null.not_null_changed == ["store_product.note: null -> not null"]
    assert all(s.trace and s.trace.lock_timeout == "3s" for s in migration.statements)


def test_a_concurrent_migration_is_watched_from_a_second_session(
    collected: CollectorOutput,  # noqa: F811
) -> None:
    migration = next(m for m in collected.migrations if m.name == "0005_product_name_index")
    index = traced(migration.statements, 0)
    assert index.method == "second-session" and index.note is None
    assert ("store_product", "ShareUpdateExclusiveLock") in locks(index)


def test_a_non_atomic_migration_commits_statement_by_statement(
    collected: CollectorOutput,  # noqa: F811
) -> None:
    migration = next(m for m in collected.migrations if m.name == "0008_sku_drop_name_index")
    add_field, drop_index = traced(migration.statements, 0), traced(migration.statements, 1)
    assert add_field.method == "transaction" and add_field.held == []
    assert locks(add_field) == {("store_product", "AccessExclusiveLock")}
    assert drop_index.method == "second-session" and drop_index.note is None
    assert ("store_product", "ShareUpdateExclusiveLock") in locks(drop_index)
    run_python = migration.operations[2].trace
    assert run_python is not None and run_python.method == "transaction"
    assert run_python.queries == 1 and run_python.rows == 2
    assert ("store_product", "RowExclusiveLock") in locks(run_python)
    assert run_python.held == []


def test_run_python_is_traced_on_its_operation(collected: CollectorOutput) -> None:  # noqa: F811
    migration = next(m for m in collected.migrations if m.name == "0006_backfill_note")
    run_python = migration.operations[1].trace
    assert run_python is not None and run_python.method == "transaction"
    assert run_python.queries == 5 and run_python.rows == 6
    assert {("store_product", "RowExclusiveLock"), ("store_category", "RowExclusiveLock")} <= locks(
        run_python
    )
    update = traced(migration.statements, 1)
    assert update.rows == 2 and update.lock_timeout == "3s"
    assert ("store_product", "RowExclusiveLock", None) in held(update)


def test_tracing_refuses_a_database_the_tool_did_not_make(pg_url: str) -> None:
    name = f"mr_foreign_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    foreign = db.with_database(pg_url, name)
    try:
        with psycopg.connect(foreign, autocommit=True) as connection:
            with pytest.raises(CollectorError) as error:
                Tracer(connection, foreign)
            assert "not created by this tool" in error.value.message
            connection.execute("CREATE TABLE customers (id int)")
        with pytest.raises(ReviewError) as refused:
            trace_script("SELECT 1", database_url=foreign)
        assert "refusing" in refused.value.error.message
        assert refused.value.error.stage == "collect"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Shelves with five foreign keys pointing at them from four tables. sqlmigrate renders from a
# state built afresh, where related models come in the order they were created; migrate threads
# one state through the plan, where an AddField re-registers related models in the order of a
# set (string hashing: random per process). So migrate runs RenameModel's statements in another
# order than sqlmigrate prints them, except about one run in 4! = 24.
SHELVES = {
    "0009_shelves": """
        operations = [
            migrations.CreateModel(
                name="Shelf", fields=[("id", models.AutoField(primary_key=True))]
            ),
            migrations.CreateModel(
                name="Member", fields=[("id", models.BigAutoField(primary_key=True))]
            ),
        ] + [
            migrations.CreateModel(
                name=name,
                fields=[
                    ("id", models.BigAutoField(primary_key=True)),
                    ("shelf", models.ForeignKey(on_delete=models.CASCADE, to="store.shelf")),
                ],
            )
            for name in ("Event", "Visit", "Loan")
        ]
    """,
    "0010_member_shelves": """
        operations = [
            migrations.AddField(
                model_name="member",
                name="shelf",
                field=models.ForeignKey(null=True, on_delete=models.SET_NULL, to="store.shelf"),
            ),
            migrations.AddField(
                model_name="member",
                name="locker",
                field=models.OneToOneField(
                    null=True,
                    on_delete=models.SET_NULL,
                    related_name="locker_member",
                    to="store.shelf",
                ),
            ),
        ]
    """,
    "0011_shelf_renamed": """
        operations = [migrations.RenameModel("Shelf", "Bookcase")]
    """,
    # Rendering reads the constraint names of the database before the rename; applying, after.
    "0012_rack_bigint": """
        operations = [
            migrations.RenameModel("Bookcase", "Rack"),
            migrations.AlterField(
                model_name="rack",
                name="id",
                field=models.BigAutoField(primary_key=True, serialize=False),
            ),
        ]
    """,
    # Rendering finds no constraint on a column the database does not have yet: only applying
    # drops the foreign key before the column.
    "0013_event_spare": """
        operations = [
            migrations.AddField(
                model_name="event",
                name="spare",
                field=models.ForeignKey(null=True, on_delete=models.SET_NULL, to="store.rack"),
            ),
            migrations.RemoveField(model_name="event", name="spare"),
        ]
    """,
}
OWN_TABLE = re.compile(r'^(?:SET CONSTRAINTS [^;]+; )?ALTER TABLE "(\w+)"')


@pytest.fixture(scope="module")
def shelves(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, CollectedMigration]:
    project = tmp_path_factory.mktemp("shelves") / "shop"
    shutil.copytree(SHOP, project, ignore=shutil.ignore_patterns("__pycache__"))
    folder = project / "catalog" / "migrations"
    previous = "0008_sku_drop_name_index"
    for name, operations in SHELVES.items():
        (folder / f"{name}.py").write_text(
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    dependencies = [('store', '{previous}')]\n" + operations.replace("\n    ", "\n")
        )
        previous = name
    files = [
        MigrationFile(path=f"catalog/migrations/{name}.py", change=ChangeKind.added)
        for name in list(SHELVES)[2:]
    ]
    output = collect(project, files, python=None, settings=None, database_url=pg_url)
    assert output.errors == [] and [m.error for m in output.migrations] == [None] * 3
    return {m.name: m for m in output.migrations}


def table_locks(trace: Trace) -> set[str]:
    return {lock.relation for lock in trace.locks if lock.relkind == "table"}


def assert_about_own_table(
    statements: list[tuple[int, str, Trace]], renamed: dict[str, str]
) -> None:
    """Each statement's new table locks are on its table or the one it references, and its
    table is locked by it or by the first statement on that table; the constraints it adds are
    on its table, among them the one its SQL names. Locks name relations as they were named
    before the migration."""
    first: dict[str, int] = {}
    for index, sql, trace in statements:
        match = OWN_TABLE.match(sql)
        assert match, sql
        own = renamed.get(match[1], match[1])
        referenced = {renamed.get(name, name) for name in re.findall(r'REFERENCES "(\w+)"', sql)}
        assert trace.method == "transaction", sql
        assert table_locks(trace) <= {own} | referenced, (sql, trace.locks)
        if own in first:
            assert (own, first[own]) in {
                (lock.relation, lock.since_statement) for lock in trace.held
            }
        else:
            assert own in table_locks(trace), (sql, trace.locks)
            first[own] = index
        added = {(c.name, renamed.get(c.table, c.table)) for c in trace.constraints}
        assert {table for _, table in added} <= {own}
        assert {(name, own) for name in re.findall(r'ADD CONSTRAINT "(\w+)"', sql)} <= added


def test_each_statement_keeps_its_own_trace_when_migrate_reorders_them(
    shelves: dict[str, CollectedMigration],
) -> None:
    migration = shelves["0011_shelf_renamed"]
    sql = [s.sql for s in migration.statements]
    assert sql[0].startswith('ALTER TABLE "store_shelf" RENAME TO')
    assert sorted(OWN_TABLE.match(s)[1] for s in sql[1:]) == sorted(
        ["store_member"] * 4 + ["store_event", "store_visit", "store_loan"] * 2
    )
    assert_about_own_table(
        [(s.index, s.sql, traced(migration.statements, s.index)) for s in migration.statements],
        {"store_bookcase": "store_shelf"},
    )
    assert all(s.trace and s.trace.executed_sql is None for s in migration.statements)
    assert migration.operations[0].executed_only == []


def test_statements_only_migrate_runs_are_kept_on_their_operation(
    shelves: dict[str, CollectedMigration],
) -> None:
    migration = shelves["0012_rack_bigint"]
    stale = [
        s
        for s in migration.statements
        if s.operation == 1 and s.sql.endswith('_fk_store_bookcase_id";')
    ]
    assert ["DROP CONSTRAINT" in s.sql for s in stale] == [True] * 5
    for statement in stale:
        trace = traced(migration.statements, statement.index)
        assert trace.method == "static-only" and "executed_only" in (trace.note or "")
    ran = [s for s in migration.statements if s not in stale]
    assert_about_own_table(
        [(s.index, s.sql, traced(migration.statements, s.index)) for s in ran],
        {"store_rack": "store_bookcase"},
    )
    # What ran instead: the same drops, of the constraints as the rename re-created them.
    extra = [t for t in migration.operations[1].executed_only if "DROP" in (t.executed_sql or "")]
    assert sorted(t.executed_sql for t in extra) == sorted(
        s.sql.replace("store_bookcase", "store_rack") for s in stale
    )
    for trace in extra:
        own = OWN_TABLE.match(trace.executed_sql or "")
        assert own and own[1] in table_locks(trace) | {lock.relation for lock in trace.held}
        assert table_locks(trace) <= {own[1], "store_bookcase"}
    assert migration.operations[0].executed_only == []

    spare = shelves["0013_event_spare"]
    assert [s.operation for s in spare.statements] == [0, 1]
    (drop_fk,) = spare.operations[1].executed_only
    assert drop_fk.executed_sql and re.search(
        r'ALTER TABLE "store_event" DROP CONSTRAINT "store_event_spare_id_\w+_fk_store_rack_id";$',
        drop_fk.executed_sql,
    )
    assert ("store_rack", "AccessExclusiveLock") in locks(drop_fk)
    assert ("store_event", "AccessExclusiveLock", 0) in held(drop_fk)
    drop_column = traced(spare.statements, 1)
    assert drop_column.method == "transaction" and drop_column.executed_sql is None
    assert ("store_event", "AccessExclusiveLock", 0) in held(drop_column)


def test_the_review_counts_and_shows_what_only_migrate_runs(
    shelves: dict[str, CollectedMigration],
) -> None:
    spare = shelves["0013_event_spare"]
    review = review_migration(spare, backend=backend_for("postgresql", pg_version=15))
    # The same migration without what migrate ran beyond sqlmigrate: no trace of it anywhere.
    bare = spare.model_copy(deep=True)
    bare.operations[1].executed_only = []
    plain = review_migration(bare, backend=backend_for("postgresql", pg_version=15))
    assert plain.unrendered == [] and "MR-UNRENDERED-SQL" not in {f.rule for f in plain.findings}
    assert plain.statements == review.statements
    assert "not in `sqlmigrate`" not in render_markdown(
        Report(tool_version="test", migrations=[plain], risk=plain.risk)
    )

    (drop_fk,) = review.unrendered
    assert drop_fk.sql == spare.operations[1].executed_only[0].executed_sql
    assert (drop_fk.index, drop_fk.operation, drop_fk.final.source) == (0, 1, "traced")
    rack = Lock(relation="store_rack", mode="AccessExclusiveLock", blocks="reads")
    assert rack in drop_fk.final.locks and drop_fk.final.blocks == "reads"
    (finding,) = [f for f in review.findings if f.rule == "MR-UNRENDERED-SQL"]
    assert (finding.operation, finding.statement) == (1, None)
    assert finding.risk == Risk.worst([RULES["MR-UNRENDERED-SQL"].risk, drop_fk.final.risk])
    assert "ACCESS EXCLUSIVE on `store_rack` (blocks reads and writes)" in finding.message
    assert "DROP CONSTRAINT" in finding.message and "Remove field spare" in (finding.safer or "")
    assert review.risk == Risk.worst(
        [s.final.risk for s in review.statements + review.unrendered]
        + [f.risk for f in review.findings]
    )
    assert MigrationReview.model_validate_json(review.model_dump_json()) == review
    estimate_migration(review, None)
    assert drop_fk.impact and drop_fk.impact.table in ("store_event", "store_rack")

    text = render_markdown(Report(tool_version="test", migrations=[review], risk=review.risk))
    shown = text.split("**Also run by `migrate` (not in `sqlmigrate`)**", 1)[1]
    assert drop_fk.sql in shown and drop_fk.sql not in text.split("**Also run by", 1)[0]
    assert "--   ↳ verified: AccessExclusiveLock on store_rack (blocks reads + writes)" in shown
    assert "rule `MR-UNRENDERED-SQL`" in text and "1 run only by <code>migrate</code>" in text
