"""The static classifier, family by family, and the review built on it.

What PostgreSQL really does is checked by the traced corpus (test_classify_corpus.py); these
tests pin the static reading of each form, the version gates, what the schema model knows, the
transaction semantics and the findings with their safer code.
"""

from __future__ import annotations

import re

import pytest

from bot.classify import Schema, backend_for, classify_sql, review_migration
from bot.classify.docs import DOCS, render
from bot.classify.postgresql.analyzer import Analyzer
from bot.classify.rules import RULES
from bot.classify.schema import SqlType, change_rewrites
from bot.errors import ReviewError
from bot.models import (
    ChangeKind,
    CollectedMigration,
    CollectedStatement,
    FieldInfo,
    OperationInfo,
    Risk,
    Trace,
    TracedLock,
)
from tests.reviews import review_in_order

SETUP = """
CREATE TABLE shop_customer (id bigint PRIMARY KEY, email varchar(100), phone text);
CREATE TABLE shop_order (
    id bigint PRIMARY KEY,
    customer_id bigint REFERENCES shop_customer (id),
    status varchar(20) NOT NULL,
    total numeric(10, 2),
    created timestamp
);
CREATE INDEX shop_order_status_idx ON shop_order (status);
"""


PG17 = backend_for("postgresql", pg_version=17)


def pg(version: int):
    return backend_for("postgresql", pg_version=version)


def classify(sql: str, *, pg_version: int = 17, setup: str = SETUP):
    """Classify ``sql`` against tables that already exist (``setup``, committed before)."""
    schema = Schema()
    classify_sql(setup, backend=pg(pg_version), schema=schema)
    return classify_sql(sql, backend=pg(pg_version), schema=schema)


def one(sql: str, **kwargs):
    reviews = classify(sql, **kwargs)
    assert len(reviews) == 1, reviews
    return reviews[0].final


def locks(verdict) -> dict[str, str]:
    return {lock.relation: lock.mode for lock in verdict.locks}


# -- statement families ----------------------------------------------------------------------


def test_new_table_locks_only_the_tables_it_references() -> None:
    plain = one("CREATE TABLE shop_tag (id bigint PRIMARY KEY, name text)")
    assert (plain.locks, plain.risk) == ([], Risk.safe)
    referencing = one("CREATE TABLE shop_note (id bigint, order_id bigint REFERENCES shop_order)")
    assert locks(referencing) == {"shop_order": "ShareRowExclusiveLock"}
    assert referencing.blocks == "writes"
    assert referencing.risk == Risk.low


@pytest.mark.parametrize(
    ("sql", "rewrite", "scan", "rule", "risk"),
    [
        ("ALTER TABLE shop_order ADD COLUMN note text", False, False, None, Risk.low),
        (
            "ALTER TABLE shop_order ADD COLUMN n int DEFAULT 0 NOT NULL",
            False,
            False,
            None,
            Risk.low,
        ),
        (
            "ALTER TABLE shop_order ADD COLUMN seen timestamptz DEFAULT now()",
            False,
            False,
            None,
            Risk.low,
        ),
        (
            "ALTER TABLE shop_order ADD COLUMN token uuid DEFAULT gen_random_uuid()",
            True,
            True,
            "MR-ADD-COLUMN-DEFAULT-VOLATILE",
            Risk.critical,
        ),
        (
            "ALTER TABLE shop_order ADD COLUMN r float8 DEFAULT my_func()",
            True,
            True,
            "MR-ADD-COLUMN-DEFAULT-VOLATILE",
            Risk.critical,
        ),
        (
            "ALTER TABLE shop_order ADD COLUMN seq bigserial",
            True,
            True,
            "MR-ADD-COLUMN-GENERATED",
            Risk.critical,
        ),
        (
            "ALTER TABLE shop_order ADD COLUMN c bigint GENERATED ALWAYS AS (total * 100) STORED",
            True,
            True,
            "MR-ADD-COLUMN-GENERATED",
            Risk.critical,
        ),
        (
            "ALTER TABLE shop_order ADD COLUMN c bigint GENERATED ALWAYS AS (total * 100) VIRTUAL",
            False,
            False,
            None,
            Risk.low,
        ),
        (
            "ALTER TABLE shop_order ADD COLUMN tier int NOT NULL",
            False,
            True,
            "MR-ADD-COLUMN-NOT-NULL",
            Risk.high,
        ),
        (
            "ALTER TABLE shop_order ADD COLUMN code text UNIQUE",
            False,
            True,
            "MR-ADD-UNIQUE",
            Risk.high,
        ),
    ],
)
def test_add_column(sql: str, rewrite: bool, scan: bool, rule: str | None, risk: Risk) -> None:
    verdict = one(sql)
    assert locks(verdict)["shop_order"] == "AccessExclusiveLock"
    assert (verdict.rewrite, verdict.scan, verdict.risk) == (rewrite, scan, risk)
    assert (rule in verdict.rules) if rule else not verdict.rules


def test_unknown_function_in_a_default_is_assumed_volatile_and_says_so() -> None:
    verdict = one("ALTER TABLE shop_order ADD COLUMN r float8 DEFAULT my_func()")
    assert any("my_func() is not known" in note for note in verdict.notes)


def test_add_column_references_locks_both_tables_without_scanning() -> None:
    verdict = one("ALTER TABLE shop_order ADD COLUMN buyer_id bigint REFERENCES shop_customer")
    assert locks(verdict) == {
        "shop_order": "AccessExclusiveLock",
        "shop_customer": "ShareRowExclusiveLock",
    }
    assert not verdict.scan


@pytest.mark.parametrize(
    ("sql", "rewrite"),
    [
        ("ALTER TABLE shop_order ALTER COLUMN status TYPE varchar(50)", False),
        ("ALTER TABLE shop_order ALTER COLUMN status TYPE varchar(10)", True),
        ("ALTER TABLE shop_order ALTER COLUMN status TYPE text", False),
        ("ALTER TABLE shop_order ALTER COLUMN total TYPE numeric(12, 2)", False),
        ("ALTER TABLE shop_order ALTER COLUMN total TYPE numeric(12, 3)", True),
        ("ALTER TABLE shop_order ALTER COLUMN total TYPE numeric", False),
        ("ALTER TABLE shop_order ALTER COLUMN id TYPE integer", True),
        ('ALTER TABLE shop_order ALTER COLUMN status TYPE text USING "status"::text', False),
        ("ALTER TABLE shop_order ALTER COLUMN status TYPE text USING upper(status)", True),
    ],
)
def test_alter_column_type_uses_the_known_type(sql: str, rewrite: bool) -> None:
    verdict = one(sql)
    assert verdict.rewrite is rewrite
    assert ("MR-ALTER-COLUMN-TYPE" in verdict.rules) is rewrite
    assert verdict.risk == (Risk.critical if rewrite else Risk.low)


def test_alter_type_of_an_unknown_column_is_assumed_a_rewrite_and_says_so() -> None:
    verdict = one("ALTER TABLE legacy ALTER COLUMN name TYPE varchar(200)", setup="")
    assert verdict.rewrite
    assert any("not known here" in note for note in verdict.notes)


def test_type_change_table() -> None:
    def rewrites(old: str, new: str, version: int = 17) -> bool:
        before, after = SqlType.parse(old), SqlType.parse(new)
        assert before and after
        return change_rewrites(before, after, pg_version=version)[0]

    assert not rewrites("varchar(10)", "varchar(20)")
    assert rewrites("varchar(20)", "varchar(10)")
    assert not rewrites("character varying(10)", "text")
    assert rewrites("text", "varchar(10)")
    assert not rewrites("text", "varchar")
    assert not rewrites("cidr", "inet")
    assert not rewrites("timestamp(3)", "timestamp(6)")
    assert rewrites("timestamp", "timestamp(3)")
    assert rewrites("integer", "bigint")
    assert rewrites("varchar(10)[]", "varchar(20)[]")
    assert not rewrites("timestamp", "timestamp with time zone", 12)
    assert rewrites("timestamp", "timestamp with time zone", 11)
    assert SqlType.parse("not a type (") is None


def test_set_not_null_scans_unless_a_validated_check_proves_it() -> None:
    plain = one("ALTER TABLE shop_customer ALTER COLUMN phone SET NOT NULL")
    assert plain.scan and "MR-SET-NOT-NULL" in plain.rules and plain.risk == Risk.high
    proven = classify(
        "ALTER TABLE shop_customer ADD CONSTRAINT phone_nn CHECK (phone IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE shop_customer VALIDATE CONSTRAINT phone_nn;\n"
        "ALTER TABLE shop_customer ALTER COLUMN phone SET NOT NULL;"
    )
    assert [r.final.scan for r in proven] == [False, True, False]
    assert proven[2].final.risk == Risk.low
    unvalidated = classify(
        "ALTER TABLE shop_customer ADD CONSTRAINT phone_nn CHECK (phone IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE shop_customer ALTER COLUMN phone SET NOT NULL;"
    )
    assert unvalidated[1].final.scan


def test_already_not_null_column_is_not_scanned() -> None:
    verdict = one("ALTER TABLE shop_order ALTER COLUMN status SET NOT NULL")
    assert not verdict.scan and verdict.risk == Risk.low


@pytest.mark.parametrize(
    ("sql", "version", "expected"),
    [
        ("ALTER TABLE shop_order ADD COLUMN p int DEFAULT 0", 10, True),
        ("ALTER TABLE shop_order ADD COLUMN p int DEFAULT 0", 11, False),
    ],
)
def test_fast_defaults_from_pg11(sql: str, version: int, expected: bool) -> None:
    verdict = one(sql, pg_version=version)
    assert verdict.rewrite is expected
    assert ("MR-ADD-COLUMN-DEFAULT-PRE11" in verdict.rules) is expected


@pytest.mark.parametrize(("version", "scans"), [(11, True), (12, False)])
def test_not_null_through_a_check_from_pg12(version: int, scans: bool) -> None:
    reviews = classify(
        "ALTER TABLE shop_customer ADD CONSTRAINT phone_nn CHECK (phone IS NOT NULL);\n"
        "ALTER TABLE shop_customer ALTER COLUMN phone SET NOT NULL;",
        pg_version=version,
    )
    assert reviews[1].final.scan is scans


@pytest.mark.parametrize(
    ("version", "mode"), [(11, "AccessExclusiveLock"), (12, "ShareUpdateExclusiveLock")]
)
def test_attach_partition_lock_from_pg12(version: int, mode: str) -> None:
    setup = (
        "CREATE TABLE m (id int, k int) PARTITION BY RANGE (k); CREATE TABLE m1 (id int, k int);"
    )
    verdict = one(
        "ALTER TABLE m ATTACH PARTITION m1 FOR VALUES FROM (0) TO (10)",
        pg_version=version,
        setup=setup,
    )
    assert locks(verdict) == {"m": mode, "m1": "AccessExclusiveLock"}


@pytest.mark.parametrize(
    ("sql", "expected", "scan", "rule"),
    [
        (
            "CREATE INDEX i ON shop_order (total)",
            {"shop_order": "ShareLock"},
            True,
            "MR-LOCK-INDEX",
        ),
        (
            "CREATE UNIQUE INDEX i ON shop_order (total) WHERE total > 0",
            {"shop_order": "ShareLock"},
            True,
            "MR-LOCK-INDEX",
        ),
        (
            "CREATE INDEX CONCURRENTLY i ON shop_order (total)",
            {"shop_order": "ShareUpdateExclusiveLock"},
            True,
            None,
        ),
        (
            "DROP INDEX shop_order_status_idx",
            {"shop_order": "AccessExclusiveLock"},
            False,
            "MR-DROP-INDEX",
        ),
        (
            "DROP INDEX CONCURRENTLY shop_order_status_idx",
            {"shop_order": "ShareUpdateExclusiveLock"},
            False,
            None,
        ),
        ("REINDEX TABLE shop_order", {"shop_order": "ShareLock"}, True, "MR-REINDEX"),
        ("ALTER INDEX shop_order_status_idx RENAME TO shop_order_state_idx", {}, False, None),
    ],
)
def test_indexes(sql: str, expected: dict[str, str], scan: bool, rule: str | None) -> None:
    verdict = one(sql)
    assert locks(verdict) == expected
    assert verdict.scan is scan
    assert (rule in verdict.rules) if rule else not verdict.rules


def test_index_on_a_table_created_in_the_same_transaction_is_safe() -> None:
    reviews = classify_sql(
        "BEGIN;\nCREATE TABLE t (id int, a int);\nCREATE INDEX t_a ON t (a);\nCOMMIT;",
        backend=PG17,
    )
    assert [r.final.risk for r in reviews] == [Risk.safe] * 4


def test_outside_a_transaction_block_each_statement_commits_on_its_own() -> None:
    reviews = classify_sql(
        "CREATE TABLE t (id int, a int);\nCREATE INDEX t_a ON t (a);", backend=PG17
    )
    assert reviews[1].final.risk == Risk.high
    assert "MR-LOCK-INDEX" in reviews[1].final.rules


def test_rollback_restores_the_schema_model() -> None:
    reviews = classify(
        "BEGIN;\nALTER TABLE shop_order ALTER COLUMN status TYPE text;\nROLLBACK;\n"
        "ALTER TABLE shop_order ALTER COLUMN status TYPE varchar(40);"
    )
    assert not reviews[-1].final.rewrite


def test_concurrently_inside_a_transaction_block_fails() -> None:
    reviews = classify("BEGIN;\nCREATE INDEX CONCURRENTLY i ON shop_order (total);\nCOMMIT;")
    assert "MR-CONCURRENTLY-IN-TRANSACTION" in reviews[1].final.rules
    assert reviews[1].final.risk == Risk.high


@pytest.mark.parametrize(
    ("sql", "expected", "scan", "rule"),
    [
        (
            "ALTER TABLE shop_order ADD CONSTRAINT c CHECK (total >= 0)",
            {"shop_order": "AccessExclusiveLock"},
            True,
            "MR-ADD-CHECK",
        ),
        (
            "ALTER TABLE shop_order ADD CONSTRAINT c CHECK (total >= 0) NOT VALID",
            {"shop_order": "AccessExclusiveLock"},
            False,
            None,
        ),
        (
            "ALTER TABLE shop_order ADD CONSTRAINT u UNIQUE (status)",
            {"shop_order": "AccessExclusiveLock"},
            True,
            "MR-ADD-UNIQUE",
        ),
        (
            "ALTER TABLE shop_order ADD CONSTRAINT u UNIQUE USING INDEX shop_order_status_idx",
            {"shop_order": "AccessExclusiveLock"},
            False,
            None,
        ),
        (
            "ALTER TABLE shop_order ADD CONSTRAINT fk FOREIGN KEY (customer_id) "
            "REFERENCES shop_customer (id)",
            {"shop_order": "ShareRowExclusiveLock", "shop_customer": "ShareRowExclusiveLock"},
            True,
            "MR-ADD-FOREIGN-KEY",
        ),
        (
            "ALTER TABLE shop_order ADD CONSTRAINT fk FOREIGN KEY (customer_id) "
            "REFERENCES shop_customer (id) NOT VALID",
            {"shop_order": "ShareRowExclusiveLock", "shop_customer": "ShareRowExclusiveLock"},
            False,
            None,
        ),
        (
            "ALTER TABLE shop_order DROP CONSTRAINT shop_order_customer_id_fkey",
            {"shop_order": "AccessExclusiveLock", "shop_customer": "AccessExclusiveLock"},
            False,
            None,
        ),
    ],
)
def test_constraints(sql: str, expected: dict[str, str], scan: bool, rule: str | None) -> None:
    verdict = one(sql)
    assert locks(verdict) == expected
    assert verdict.scan is scan
    assert (rule in verdict.rules) if rule else not verdict.rules


def test_validate_foreign_key_takes_row_share_on_the_referenced_table() -> None:
    reviews = classify(
        "ALTER TABLE shop_order ADD CONSTRAINT fk FOREIGN KEY (customer_id) "
        "REFERENCES shop_customer (id) NOT VALID;\nALTER TABLE shop_order VALIDATE CONSTRAINT fk;"
    )
    assert locks(reviews[1].final) == {
        "shop_order": "ShareUpdateExclusiveLock",
        "shop_customer": "RowShareLock",
    }
    assert reviews[1].final.scan and reviews[1].final.risk == Risk.low


def test_django_foreign_key_name_tells_the_referenced_table() -> None:
    verdict = one(
        'ALTER TABLE "lending_loan" DROP CONSTRAINT '
        '"lending_loan_customer_id_3f3e4a7b_fk_shop_customer_id"',
        setup="",
    )
    assert locks(verdict) == {
        "lending_loan": "AccessExclusiveLock",
        "shop_customer": "AccessExclusiveLock",
    }
    assert any("its name" in note for note in verdict.notes)


def test_drop_table_locks_the_tables_of_its_foreign_keys() -> None:
    verdict = one("DROP TABLE shop_order")
    assert locks(verdict) == {
        "shop_order": "AccessExclusiveLock",
        "shop_customer": "AccessExclusiveLock",
    }
    assert "MR-DROP-TABLE" in verdict.rules and verdict.risk == Risk.high
    cascade = one("DROP TABLE shop_customer CASCADE")
    assert locks(cascade) == {
        "shop_customer": "AccessExclusiveLock",
        "shop_order": "AccessExclusiveLock",
    }


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("ALTER TABLE shop_order RENAME COLUMN total TO amount", "MR-RENAME-COLUMN"),
        ("ALTER TABLE shop_order RENAME TO shop_purchase", "MR-RENAME-TABLE"),
        ("ALTER TABLE shop_order DROP COLUMN total", "MR-DROP-COLUMN"),
        ("TRUNCATE shop_order", "MR-TRUNCATE"),
    ],
)
def test_changes_that_break_running_code_are_high(sql: str, rule: str) -> None:
    verdict = one(sql)
    assert rule in verdict.rules
    assert verdict.risk >= Risk.high
    assert locks(verdict)["shop_order"] == "AccessExclusiveLock"


def test_dml() -> None:
    unbounded = one("UPDATE shop_order SET status = 'new'")
    assert locks(unbounded) == {"shop_order": "RowExclusiveLock"}
    assert unbounded.rules == ["MR-DML-UNBOUNDED"] and unbounded.risk == Risk.medium
    bounded = one("DELETE FROM shop_order WHERE id = 1")
    assert bounded.rules == ["MR-DML"] and bounded.risk == Risk.low
    inserted = one("INSERT INTO shop_order SELECT * FROM shop_order WHERE id < 0")
    assert locks(inserted) == {
        "shop_order": "RowExclusiveLock",
        "shop_customer": "RowShareLock",  # the foreign key's check of each new row
    }
    joined = one("UPDATE shop_order SET total = 0 FROM shop_customer c WHERE c.id = customer_id")
    assert locks(joined) == {"shop_order": "RowExclusiveLock", "shop_customer": "AccessShareLock"}
    cascade = one(
        "DELETE FROM shop_customer WHERE id = 1",
        setup="CREATE TABLE shop_customer (id int PRIMARY KEY);"
        "CREATE TABLE shop_order (id int, customer_id int REFERENCES shop_customer "
        "ON DELETE CASCADE);"
        "CREATE TABLE shop_audit (customer_id int REFERENCES shop_customer "
        "DEFERRABLE INITIALLY DEFERRED);",
    )
    assert locks(cascade) == {
        "shop_customer": "RowExclusiveLock",
        "shop_order": "RowExclusiveLock",
    }


def test_work_under_a_lock_held_since_an_earlier_statement() -> None:
    reviews = classify(
        "BEGIN;\nALTER TABLE shop_order ADD COLUMN paid boolean;\n"
        "UPDATE shop_order SET paid = false WHERE paid IS NULL;\n"
        "CREATE INDEX shop_order_paid ON shop_order (paid);\nCOMMIT;"
    )
    add, update, index = (r.final for r in reviews[1:4])
    assert add.risk == Risk.low
    assert update.blocks == "reads" and update.risk == Risk.high
    assert "MR-WORK-UNDER-HELD-LOCK" in update.rules
    assert index.blocks == "reads" and "MR-WORK-UNDER-HELD-LOCK" in index.rules
    assert reviews[4].final.risk == Risk.safe


def test_unrecognised_statements_are_medium_never_safe() -> None:
    for sql in ("DO $$ BEGIN PERFORM 1; END $$", "CALL refresh_everything()"):
        verdict = one(sql)
        assert verdict.rules == ["MR-UNRECOGNISED"]
        assert verdict.risk == Risk.medium


def test_session_and_catalog_only_statements() -> None:
    assert one("SET lock_timeout = '5s'").risk == Risk.safe
    assert one("CREATE EXTENSION IF NOT EXISTS pg_trgm").risk == Risk.safe
    comment = one("COMMENT ON COLUMN shop_order.status IS 'x'")
    assert locks(comment) == {"shop_order": "ShareUpdateExclusiveLock"}
    assert comment.risk == Risk.safe


def test_parse_error_names_the_file_and_the_line() -> None:
    with pytest.raises(ReviewError) as raised:
        classify_sql(
            "SELECT 1;\n\nALTER TABLE t\n  ADD COLUMN x int garbage;", backend=PG17, file="m.sql"
        )
    error = raised.value.error
    assert error.file == "m.sql:4"
    assert "line 3" in error.message and "garbage" in error.message


def test_unparsable_statement_in_a_migration_needs_review() -> None:
    migration = _migration([("ALTER TABLE t ADD COLUMN x int garbage", None)])
    review = review_migration(migration, backend=PG17)
    assert review.statements[0].final.rules == ["MR-UNRECOGNISED"]
    assert review.statements[0].final.risk == Risk.medium


# -- the rule catalogue and its documentation ------------------------------------------------


@pytest.mark.parametrize("rule", [r for r in RULES.values() if r.bad.lang == "sql"], ids=str)
def test_bad_sql_examples_hit_their_rule_and_safe_ones_do_not(rule) -> None:
    version = 10 if rule.id == "MR-ADD-COLUMN-DEFAULT-PRE11" else 17
    hit = {r for s in classify_sql(rule.bad.code, backend=pg(version)) for r in s.final.rules}
    assert rule.id in hit
    if rule.safe.lang == "sql":
        safe = {r for s in classify_sql(rule.safe.code, backend=PG17) for r in s.final.rules}
        assert rule.id not in safe


def test_python_examples_in_the_catalogue_are_valid_python() -> None:
    for rule in RULES.values():
        for example in (rule.bad, rule.safe):
            if example.lang == "python" and "..." not in example.code:
                compile(example.code, rule.id, "exec")


def test_rules_doc_is_generated_from_the_catalogue() -> None:
    assert DOCS.read_text(encoding="utf-8") == render(), "run: python -m bot.classify.docs"
    for rule in RULES:
        assert f"## {rule}\n" in render()


# -- reviewing a migration -------------------------------------------------------------------


def _migration(
    statements: list[tuple[str, int | None]],
    operations: list[OperationInfo] | None = None,
    *,
    atomic: bool = True,
    change: ChangeKind = ChangeKind.added,
    traces: list[Trace | None] | None = None,
) -> CollectedMigration:
    return CollectedMigration(
        app_label="shop",
        name="0008_change",
        file="shop/migrations/0008_change.py",
        change=change,
        atomic=atomic,
        dependencies=[("shop", "0007_previous")],
        operations=operations or [],
        statements=[
            CollectedStatement(index=i, sql=sql, operation=op, trace=traces[i] if traces else None)
            for i, (sql, op) in enumerate(statements)
        ],
    )


def _op(index: int, kind: str, describe: str, **kwargs) -> OperationInfo:
    return OperationInfo(
        index=index, kind=kind, path=f"django.db.migrations.{kind}", describe=describe, **kwargs
    )


def _python_blocks(text: str | None) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text or "", re.S)


def test_add_index_finding_suggests_add_index_concurrently_with_the_real_names() -> None:
    op = _op(
        0,
        "AddIndex",
        "Create index shop_order_status_idx on field(s) status of model order",
        model="order",
        table="shop_order",
    )
    review = review_migration(
        _migration([('CREATE INDEX "shop_order_status_idx" ON "shop_order" ("status");', 0)], [op]),
        backend=PG17,
    )
    finding = next(f for f in review.findings if f.rule == "MR-LOCK-INDEX")
    assert finding.risk == Risk.high and finding.statement == 0
    assert "shop_order" in finding.message
    (code,) = _python_blocks(finding.safer)
    compile(code, "safer", "exec")
    assert "atomic = False" in code
    assert (
        "AddIndexConcurrently(\n            model_name='order',\n            index=models.Index("
        "fields=['status'], name='shop_order_status_idx')" in code
    )
    assert "('shop', '0007_previous')" in code
    assert review.risk == Risk.high


def test_remove_field_suggests_two_releases_and_keeps_not_null_columns_writable() -> None:
    old = FieldInfo(type="django.db.models.CharField", db_type="varchar(20)", null=False)
    op = _op(
        0,
        "RemoveField",
        "Remove field fax from customer",
        model="customer",
        table="shop_customer",
        field_name="fax",
        old_field=old,
    )
    review = review_migration(
        _migration([('ALTER TABLE "shop_customer" DROP COLUMN "fax" CASCADE;', 0)], [op]),
        backend=PG17,
    )
    finding = next(f for f in review.findings if f.rule == "MR-DROP-COLUMN")
    first, second = _python_blocks(finding.safer)
    for code in (first, second):
        compile(code, "safer", "exec")
    assert "RemoveField(model_name='customer', name='fax')" in first
    assert "DROP NOT NULL" in first
    assert 'DROP COLUMN "fax"' in second and "('shop', '0008_change')" in second


def test_alter_field_type_known_from_the_operation() -> None:
    old = FieldInfo(type="django.db.models.CharField", db_type="varchar(100)")
    new = FieldInfo(type="django.db.models.CharField", db_type="varchar(200)")
    op = _op(
        0,
        "AlterField",
        "Alter field name on product",
        model="product",
        table="shop_product",
        field_name="name",
        field=new,
        old_field=old,
    )
    review = review_migration(
        _migration(
            [('ALTER TABLE "shop_product" ALTER COLUMN "name" TYPE varchar(200);', 0)], [op]
        ),
        backend=PG17,
    )
    assert not review.statements[0].final.rewrite
    assert review.statements[0].final.risk == Risk.low


def test_migration_level_findings() -> None:
    run_python = _op(
        0,
        "RunPython",
        "Raw Python operation",
        code="shop.migrations.fill",
        reversible=False,
        reduces_to_sql=False,
    )
    review = review_migration(
        _migration([], [run_python], change=ChangeKind.modified), backend=PG17
    )
    rules = {f.rule: f for f in review.findings}
    assert {"MR-MIGRATION-MODIFIED", "MR-DATA-MIGRATION", "MR-NO-REVERSE"} <= set(rules)
    assert rules["MR-MIGRATION-MODIFIED"].risk == Risk.high
    assert review.risk == Risk.high
    assert "RunPython(fill, migrations.RunPython.noop)" in rules["MR-NO-REVERSE"].safer


def test_run_python_after_a_blocking_statement_runs_under_its_lock() -> None:
    add = _op(0, "AddField", "Add field paid to order", model="order", table="shop_order")
    fill = _op(1, "RunPython", "Raw Python operation", code="shop.migrations.fill")
    review = review_migration(
        _migration([('ALTER TABLE "shop_order" ADD COLUMN "paid" boolean NULL;', 0)], [add, fill]),
        backend=PG17,
    )
    held = [f for f in review.findings if f.rule == "MR-WORK-UNDER-HELD-LOCK"]
    assert held and held[0].risk == Risk.high and "shop_order" in held[0].message


def test_non_atomic_migration_mixing_ddl_and_lock_timeout() -> None:
    review = review_migration(
        _migration(
            [
                ('ALTER TABLE "shop_order" ADD COLUMN "note" text NULL;', None),
                ('CREATE INDEX CONCURRENTLY "i" ON "shop_order" ("status");', None),
            ],
            atomic=False,
        ),
        backend=PG17,
    )
    rules = {f.rule for f in review.findings}
    assert "MR-NONATOMIC-DDL" in rules and "MR-NO-LOCK-TIMEOUT" in rules
    bounded = review_migration(
        _migration(
            [
                ("SET LOCAL lock_timeout = '5s';", None),
                ('ALTER TABLE "shop_order" ADD COLUMN "note" text NULL;', None),
            ]
        ),
        backend=PG17,
    )
    assert "MR-NO-LOCK-TIMEOUT" not in {f.rule for f in bounded.findings}


def test_schema_carries_over_between_migrations_of_one_review() -> None:
    first = _migration([("ALTER TABLE shop_order ADD COLUMN code varchar(10);", None)])
    second = _migration([("ALTER TABLE shop_order ALTER COLUMN code TYPE varchar(30);", None)])
    reviews = review_in_order([first, second], PG17)
    assert not reviews[1].statements[0].final.rewrite
    alone = review_migration(second, backend=PG17)
    assert alone.statements[0].final.rewrite


# -- traced verdicts -------------------------------------------------------------------------


def _lock(relation: str, mode: str, **kwargs) -> TracedLock:
    return TracedLock(
        relation=relation, relkind=kwargs.pop("relkind", "table"), mode=mode, **kwargs
    )


def test_traced_verdict_wins_and_a_difference_is_kept() -> None:
    trace = Trace(
        method="transaction",
        locks=[_lock("shop_order", "AccessExclusiveLock")],
        rewritten=["shop_order"],
        scanned=["shop_order"],
    )
    review = review_migration(
        _migration(
            [("ALTER TABLE shop_order ALTER COLUMN code TYPE varchar(30);", None)], traces=[trace]
        ),
        backend=PG17,
        schema=_schema("CREATE TABLE shop_order (id int, code varchar(10));"),
    )
    statement = review.statements[0]
    assert statement.static.source == "static" and not statement.static.rewrite
    assert statement.final.source == "traced" and statement.final.rewrite
    assert statement.final.risk == Risk.critical
    assert statement.disagreements == [
        "rewrite: static no, traced yes",
        "scan: static no, traced yes",
    ]


def test_trace_lock_on_a_created_relation_is_ignored() -> None:
    trace = Trace(
        method="transaction",
        locks=[_lock("shop_tag", "AccessExclusiveLock", created=True)],
    )
    review = review_migration(
        _migration([("CREATE TABLE shop_tag (id int);", None)], traces=[trace]), backend=PG17
    )
    assert review.statements[0].final.locks == []
    assert review.statements[0].disagreements == []


def test_a_mode_already_held_is_not_a_disagreement() -> None:
    first = Trace(method="transaction", locks=[_lock("shop_order", "AccessExclusiveLock")])
    second = Trace(
        method="transaction",
        held=[_lock("shop_order", "AccessExclusiveLock", since_statement=0)],
    )
    review = review_migration(
        _migration(
            [
                ("ALTER TABLE shop_order ADD COLUMN n int DEFAULT 0 NOT NULL;", None),
                ("ALTER TABLE shop_order ALTER COLUMN n DROP DEFAULT;", None),
            ],
            traces=[first, second],
        ),
        backend=PG17,
    )
    assert [s.disagreements for s in review.statements] == [[], []]
    assert review.statements[1].final.locks[0].mode == "AccessExclusiveLock"


def test_a_wrong_static_lock_is_a_disagreement() -> None:
    trace = Trace(
        method="transaction",
        locks=[_lock("shop_order", "AccessExclusiveLock")],
        scanned=["shop_order"],
    )
    review = review_migration(
        _migration([("CREATE INDEX i ON shop_order (status);", None)], traces=[trace]),
        backend=PG17,
    )
    assert review.statements[0].disagreements == [
        "lock on shop_order: static ShareLock, traced AccessExclusiveLock"
    ]
    assert review.statements[0].final.blocks == "reads"


def test_second_session_trace_keeps_the_static_scan() -> None:
    trace = Trace(
        method="second-session",
        locks=[_lock("shop_order", "ShareUpdateExclusiveLock", granted=False)],
    )
    review = review_migration(
        _migration(
            [("CREATE INDEX CONCURRENTLY i ON shop_order (status);", None)],
            traces=[trace],
            atomic=False,
        ),
        backend=PG17,
    )
    statement = review.statements[0]
    assert statement.disagreements == []
    assert statement.final.scan and statement.final.source == "traced"
    assert any("second session" in note for note in statement.final.notes)


def _schema(sql: str) -> Schema:
    schema = Schema()
    classify_sql(sql, backend=PG17, schema=schema)
    return schema


def test_analyzer_tracks_renames_for_the_trace() -> None:
    analyzer = Analyzer(pg_version=17, schema=_schema("CREATE TABLE a (id int);"), migration=True)
    review = review_migration(
        _migration(
            [("ALTER TABLE a RENAME TO b;", None), ("ALTER TABLE b ADD COLUMN c int;", None)],
            traces=[
                Trace(method="transaction", locks=[_lock("a", "AccessExclusiveLock")]),
                Trace(method="transaction", held=[_lock("a", "AccessExclusiveLock")]),
            ],
        ),
        backend=PG17,
        schema=analyzer.schema,
    )
    assert [s.disagreements for s in review.statements] == [[], []]


def test_an_empty_value_fills_its_placeholder_with_nothing() -> None:
    from bot.classify.rules import fill

    assert fill("inside the deploy{where}.", {"where": ""}) == "inside the deploy."
    assert fill("on {table}", {}) != "on {table}"


# -- what migrate runs that sqlmigrate does not print ----------------------------------------


def _executed_only_migration(*executed: Trace) -> CollectedMigration:
    op = _op(
        0,
        "AlterField",
        "Alter field code on order",
        model="order",
        table="shop_order",
        executed_only=list(executed),
    )
    first = Trace(method="transaction", locks=[_lock("shop_order", "AccessExclusiveLock")])
    return _migration(
        [("ALTER TABLE shop_order ALTER COLUMN code DROP DEFAULT;", 0)], [op], traces=[first]
    )


def test_sql_only_migrate_runs_is_classified_and_counts_towards_the_risk() -> None:
    rewrite = Trace(
        method="transaction",
        held=[_lock("shop_order", "AccessExclusiveLock", since_statement=0)],
        rewritten=["shop_order"],
        scanned=["shop_order"],
        executed_sql="ALTER TABLE shop_order ALTER COLUMN code TYPE varchar(30);",
    )
    schema = "CREATE TABLE shop_order (id int, code varchar(10));"
    plain = review_migration(_executed_only_migration(), backend=PG17, schema=_schema(schema))
    review = review_migration(
        _executed_only_migration(rewrite), backend=PG17, schema=_schema(schema)
    )
    assert plain.unrendered == [] and plain.risk == Risk.low
    assert review.statements == plain.statements
    (extra,) = review.unrendered
    assert (extra.index, extra.operation, extra.sql) == (0, 0, rewrite.executed_sql)
    assert not extra.static.rewrite and extra.final.source == "traced" and extra.final.rewrite
    assert extra.final.risk == Risk.critical
    assert extra.disagreements == ["rewrite: static no, traced yes", "scan: static no, traced yes"]
    assert review.risk == Risk.critical
    (unrendered,) = [f for f in review.findings if f.rule == "MR-UNRENDERED-SQL"]
    assert (unrendered.risk, unrendered.operation, unrendered.statement) == (Risk.critical, 0, None)
    assert "`ALTER TABLE shop_order ALTER COLUMN code TYPE varchar(30);`" in unrendered.message
    assert "ACCESS EXCLUSIVE on `shop_order`" in unrendered.message
    assert "Alter field code on order" in (unrendered.safer or "")


def test_sql_only_migrate_runs_without_a_trace_keeps_the_static_verdict_and_its_findings() -> None:
    index = "CREATE INDEX shop_order_status_idx ON shop_order (status);"
    untraced = Trace(method="static-only", note="not traced", executed_sql=index)
    harmless = Trace(
        method="transaction", executed_sql="ALTER SEQUENCE shop_order_id_seq AS bigint;"
    )
    review = review_migration(
        _executed_only_migration(untraced, harmless),
        backend=PG17,
        schema=_schema("CREATE TABLE shop_order (id int, code varchar(10), status text);"),
    )
    built, sequence = review.unrendered
    assert [built.index, sequence.index] == [0, 1]
    assert built.traced is None and built.final == built.static
    # It ran in the migration's transaction, under the lock the printed statement took.
    assert built.final.rules == ["MR-LOCK-INDEX", "MR-WORK-UNDER-HELD-LOCK"]
    assert built.final.risk == Risk.high
    assert sequence.final.risk == Risk.safe and sequence.final.locks == []
    (lock_index,) = [f for f in review.findings if f.rule == "MR-LOCK-INDEX"]
    assert (lock_index.statement, lock_index.operation) == (None, 0)
    (unrendered,) = [f for f in review.findings if f.rule == "MR-UNRENDERED-SQL"]
    assert unrendered.risk == Risk.high and "2 statement(s)" in unrendered.message
    assert review.risk == Risk.high


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_safer_text_opens_with_prose_so_the_comment_keeps_its_code_fences(
    rule_id: str,
) -> None:
    """The comment writes ``**Safer:** <text>``: a text opening with a fence would glue the
    fence to the label and break the Markdown of the whole section."""
    from bot.classify.advice import Context, safer
    from bot.models import ChangeKind, CollectedMigration

    migration = CollectedMigration(
        app_label="shop",
        name="0002_x",
        file="shop/migrations/0002_x.py",
        change=ChangeKind.added,
        atomic=True,
    )
    context = Context(migration=migration, operation=None, sql="")
    for backend in (PG17, backend_for("mysql"), backend_for("sqlite")):
        text = safer(rule_id, context, {}, backend.advice)
        assert text and not text.lstrip().startswith("```"), (backend.name, text[:80])
        assert all(line.startswith("```") for line in text.splitlines() if "```" in line)
