"""What the tracer reads from PostgreSQL: locks, locks still held, rewrites, scans, constraints,
NOT NULL changes, and CONCURRENTLY statements watched from a second session."""

from __future__ import annotations

import secrets
from pathlib import Path

import psycopg
import pytest

from bot.collect import trace_script, trace_sql
from bot.collector.mr_collector import db
from bot.collector.mr_collector.errors import CollectorError
from bot.collector.mr_collector.trace import Tracer
from bot.errors import ReviewError
from bot.models import CollectedStatement, CollectorOutput, Trace
from tests.test_collect import collected  # noqa: F401 (the collected shop migrations fixture)

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
    statements = trace_sql(
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
    )
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
    statements = trace_sql(
        SETUP
        + """
        ALTER TABLE shop_order ADD CONSTRAINT note_present CHECK (note IS NOT NULL) NOT VALID;
        ALTER TABLE shop_order VALIDATE CONSTRAINT note_present;
        ALTER TABLE shop_order ALTER COLUMN note SET NOT NULL;
        """,
        database_url=pg_url,
    )
    not_null = traced(statements, 4)
    assert not_null.not_null_changed == ["shop_order.note: null -> not null"]
    assert not_null.scanned == []  # PostgreSQL 12+: the validated CHECK proves it
    assert traced(statements, 3).scanned == ["shop_order"]


def test_locks_are_held_until_commit_in_an_explicit_transaction(pg_url: str) -> None:
    statements = trace_sql(
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
    )
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
    statements = trace_sql(
        SETUP
        + """
        BEGIN;
        ALTER TABLE missing ADD COLUMN x int;
        ALTER TABLE shop_order ADD COLUMN y int;
        COMMIT;
        ALTER TABLE shop_order ADD COLUMN z int;
        """,
        database_url=pg_url,
    )
    failed, skipped, after = traced(statements, 3), traced(statements, 4), traced(statements, 6)
    assert failed.method == "static-only" and 'relation "missing"' in (failed.note or "")
    assert skipped.method == "static-only" and "statement 3" in (skipped.note or "")
    assert after.method == "transaction"


def test_concurrently_is_watched_from_a_second_session(pg_url: str) -> None:
    statements = trace_sql(
        SETUP
        + """
        CREATE INDEX CONCURRENTLY shop_order_total ON shop_order (total);
        DROP INDEX CONCURRENTLY shop_order_total;
        """,
        database_url=pg_url,
    )
    create, drop = traced(statements, 2), traced(statements, 3)
    assert create.method == "second-session" and create.note is None
    assert ("shop_order", "ShareUpdateExclusiveLock") in locks(create)
    assert ("shop_order", "ShareLock") not in locks(create)
    assert drop.method == "second-session" and drop.note is None
    assert ("shop_order", "ShareUpdateExclusiveLock") in locks(drop)


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
            trace_sql("SELECT 1", database_url=foreign)
        assert "refusing" in refused.value.error.message
        assert refused.value.error.stage == "collect"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
