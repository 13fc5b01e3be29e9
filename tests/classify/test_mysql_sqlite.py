"""The MySQL/MariaDB and SQLite classifiers without a server: version-aware online DDL from the
manuals, SQLite's table remake, the traced verdict winning, rules with their SQL examples,
safer code, and ``check-sql --dialect``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.classify import backend_for, classify_sql, review_migration
from bot.classify.mysql.analyzer import Analyzer, Server
from bot.classify.rules import RULES
from bot.classify.schema import Schema
from bot.cli import main
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

TABLE = (
    "CREATE TABLE shop_order (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(20) NOT NULL, "
    "label varchar(30) NOT NULL, title varchar(60) NOT NULL, quantity int NOT NULL, "
    "note longtext NULL, state enum('new','paid') NULL, customer_id bigint NULL)"
)


def read(sql: str, server: str) -> tuple[str | None, str | None, bool]:
    """(ALGORITHM, LOCK, rebuild) of the last statement of ``sql``, the table pre-existing."""
    analyzer = Analyzer(Server.parse(server))
    analyzer.plan(TABLE)
    analyzer.schema.start_unit()
    reading = None
    for statement in sql.split(";\n"):
        reading = analyzer.plan(statement)
    assert reading is not None
    return reading.algorithm, reading.lock, reading.rebuild


INSTANT = ("INSTANT", None, False)
NOCOPY = ("NOCOPY", "NONE", False)
INPLACE_METADATA = ("INPLACE", "NONE", False)
REBUILD = ("INPLACE", "NONE", True)
COPY = ("COPY", "SHARED", True)


@pytest.mark.parametrize(
    ("sql", "server", "expected"),
    [
        # ADD COLUMN: instant from MySQL 8.0.12 and MariaDB 10.3.7, anywhere from 8.0.29 / 10.4
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL", "8.0.12", INSTANT),
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL", "5.7.44", REBUILD),
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL", "10.3.7-MariaDB", INSTANT),
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL", "10.2.44-MariaDB", REBUILD),
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL FIRST", "8.0.28", REBUILD),
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL FIRST", "8.0.29", INSTANT),
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL AFTER id", "10.3.39-MariaDB", REBUILD),
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL AFTER id", "10.4.0-MariaDB", INSTANT),
        (
            "ALTER TABLE shop_order ADD COLUMN n int AUTO_INCREMENT UNIQUE",
            "8.0.36",
            ("INPLACE", "SHARED", True),
        ),
        ("ALTER TABLE shop_order ADD COLUMN d int AS (quantity * 2) STORED", "8.0.36", COPY),
        # ... and a column added with another change rebuilds the table
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL, ADD INDEX i (paid)", "8.0.36", REBUILD),
        # DROP COLUMN: instant from MySQL 8.0.29 and MariaDB 10.4
        ("ALTER TABLE shop_order DROP COLUMN note", "8.0.28", REBUILD),
        ("ALTER TABLE shop_order DROP COLUMN note", "8.0.29", INSTANT),
        ("ALTER TABLE shop_order DROP COLUMN note", "10.3.39-MariaDB", REBUILD),
        ("ALTER TABLE shop_order DROP COLUMN note", "10.4.0-MariaDB", INSTANT),
        # RENAME COLUMN: instant from MySQL 8.0.28, metadata only before
        ("ALTER TABLE shop_order RENAME COLUMN code TO sku", "8.0.27", INPLACE_METADATA),
        ("ALTER TABLE shop_order RENAME COLUMN code TO sku", "8.0.28", INSTANT),
        ("ALTER TABLE shop_order CHANGE code sku varchar(20) NOT NULL", "10.11.6-MariaDB", INSTANT),
        ("ALTER TABLE shop_order CHANGE code sku varchar(20) NOT NULL", "8.0.27", INPLACE_METADATA),
        ("ALTER TABLE shop_order DROP COLUMN IF EXISTS note", "10.11.6-MariaDB", INSTANT),
        # VARCHAR (utf8mb4): the length prefix grows at 256 bytes; MariaDB 10.4.3 extends <= 127
        ("ALTER TABLE shop_order MODIFY code varchar(60) NOT NULL", "8.0.36", INPLACE_METADATA),
        ("ALTER TABLE shop_order MODIFY code varchar(60) NOT NULL", "10.11.6-MariaDB", INSTANT),
        ("ALTER TABLE shop_order MODIFY label varchar(100) NOT NULL", "8.0.36", COPY),
        ("ALTER TABLE shop_order MODIFY label varchar(100) NOT NULL", "10.4.2-MariaDB", COPY),
        ("ALTER TABLE shop_order MODIFY label varchar(100) NOT NULL", "10.4.3-MariaDB", INSTANT),
        ("ALTER TABLE shop_order MODIFY title varchar(100) NOT NULL", "10.11.6-MariaDB", COPY),
        ("ALTER TABLE shop_order MODIFY code varchar(10) NOT NULL", "10.11.6-MariaDB", COPY),
        (
            "ALTER TABLE shop_order MODIFY code varchar(60) CHARACTER SET latin1 NOT NULL",
            "8.0.36",
            COPY,
        ),
        # types, NULL-ness, ENUM
        ("ALTER TABLE shop_order MODIFY quantity bigint NOT NULL", "8.0.36", COPY),
        ("ALTER TABLE shop_order MODIFY quantity int(11) NOT NULL", "8.0.36", INSTANT),
        ("ALTER TABLE shop_order MODIFY note longtext NOT NULL", "8.0.36", REBUILD),
        ("ALTER TABLE shop_order MODIFY quantity int NULL", "10.11.6-MariaDB", REBUILD),
        ("ALTER TABLE shop_order MODIFY state enum('new','paid','sent') NULL", "8.0.36", INSTANT),
        ("ALTER TABLE shop_order MODIFY state enum('paid','new') NULL", "8.0.36", COPY),
        ("ALTER TABLE shop_order MODIFY quantity int NOT NULL FIRST", "8.0.36", REBUILD),
        ("ALTER TABLE shop_order MODIFY quantity int NOT NULL FIRST", "10.4.0-MariaDB", INSTANT),
        # indexes and constraints
        ("CREATE INDEX i ON shop_order (code)", "10.11.6-MariaDB", NOCOPY),
        ("CREATE INDEX i ON shop_order (code)", "8.0.36", INPLACE_METADATA),
        ("CREATE FULLTEXT INDEX f ON shop_order (title)", "8.0.36", ("INPLACE", "SHARED", True)),
        ("DROP INDEX i ON shop_order", "10.11.6-MariaDB", NOCOPY),
        ("ALTER TABLE shop_order ADD CONSTRAINT u UNIQUE (code)", "10.11.6-MariaDB", NOCOPY),
        ("ALTER TABLE shop_order ADD CONSTRAINT c CHECK (quantity >= 0)", "10.11.6-MariaDB", COPY),
        (
            "ALTER TABLE shop_order ADD CONSTRAINT f FOREIGN KEY (customer_id) "
            "REFERENCES shop_customer (id)",
            "8.0.36",
            COPY,
        ),
        (
            "SET SESSION foreign_key_checks = 0;\n"
            "ALTER TABLE shop_order ADD CONSTRAINT f FOREIGN KEY (customer_id) "
            "REFERENCES shop_customer (id)",
            "10.11.6-MariaDB",
            NOCOPY,
        ),
        ("ALTER TABLE shop_order DROP FOREIGN KEY f", "10.11.6-MariaDB", INSTANT),
        ("ALTER TABLE shop_order DROP PRIMARY KEY", "8.0.36", COPY),
        ("ALTER TABLE shop_order DROP PRIMARY KEY, ADD PRIMARY KEY (id, code)", "8.0.36", REBUILD),
        # table options; MariaDB 11.2 copies online
        ("ALTER TABLE shop_order ENGINE=InnoDB", "8.0.36", REBUILD),
        ("ALTER TABLE shop_order RENAME TO shop_purchase", "8.0.36", INSTANT),
        (
            "ALTER TABLE shop_order MODIFY quantity bigint NOT NULL",
            "11.2.2-MariaDB",
            ("COPY", "NONE", True),
        ),
    ],
)
def test_online_ddl_by_server_version(
    sql: str, server: str, expected: tuple[str | None, str | None, bool]
) -> None:
    assert read(sql, server) == expected


def test_a_column_of_unknown_definition_is_assumed_copied() -> None:
    [review] = classify_sql(
        "ALTER TABLE shop_order MODIFY code varchar(60) NOT NULL;",
        backend=backend_for("mysql", server_version="8.0.36"),
    )
    assert review.final.rules == ["MR-MYSQL-COPY-ALTER"]
    assert any("previous definition" in note and "unknown" in note for note in review.final.notes)


@pytest.mark.parametrize(
    ("sql", "risk", "blocks", "rules"),
    [
        ("ALTER TABLE shop_order ADD COLUMN paid bool NULL", Risk.low, "reads", []),
        (
            "ALTER TABLE shop_order MODIFY quantity bigint NOT NULL",
            Risk.high,
            "writes",
            ["MR-MYSQL-COPY-ALTER"],
        ),
        (
            "ALTER TABLE shop_order MODIFY note longtext NOT NULL",
            Risk.low,
            "none",
            ["MR-MYSQL-REBUILD"],
        ),
        (
            "CREATE FULLTEXT INDEX f ON shop_order (title)",
            Risk.high,
            "writes",
            ["MR-MYSQL-LOCKING-ALTER"],
        ),
        ("ALTER TABLE shop_order DROP COLUMN note", Risk.high, "reads", ["MR-DROP-COLUMN"]),
        ("UPDATE shop_order SET quantity = 0", Risk.medium, "none", ["MR-DML-UNBOUNDED"]),
    ],
)
def test_mysql_verdicts(sql: str, risk: Risk, blocks: str, rules: list[str]) -> None:
    schema = Schema()
    Analyzer(Server.parse("8.0.36"), schema).plan(TABLE)  # known, and there before the review
    review = review_migration(
        migration(sql, None), backend=backend_for("mysql", server_version="8.0.36"), schema=schema
    )
    final = review.statements[0].final
    assert (final.risk, final.blocks, final.rules) == (risk, blocks, rules)
    if final.locks:
        assert final.locks[-1].mode == "METADATA (brief)"  # every ALTER's metadata lock


def test_statements_on_a_table_created_in_the_same_migration_are_safe() -> None:
    reviews = classify_sql(
        f"{TABLE};\nALTER TABLE shop_order MODIFY quantity bigint NOT NULL;",
        backend=backend_for("mysql", server_version="8.0.36"),
    )
    assert [r.final.risk for r in reviews] == [Risk.safe, Risk.safe]


def migration(sql: str, trace: Trace | None, op: OperationInfo | None = None) -> CollectedMigration:
    return CollectedMigration(
        app_label="shop",
        name="0009_order_quantity",
        file="shop/migrations/0009_order_quantity.py",
        change=ChangeKind.added,
        atomic=True,
        operations=[op] if op else [],
        statements=[CollectedStatement(index=0, sql=sql, operation=0 if op else None, trace=trace)],
    )


def test_the_probe_wins_and_the_disagreement_is_kept() -> None:
    """The static reading knows nothing of quantity; the server said INSTANT."""
    probe = Trace(method="probe", algorithm="INSTANT", note="refused nothing")
    m = migration("ALTER TABLE `shop_order` MODIFY `quantity` int NOT NULL;", probe)
    review = review_migration(
        m,
        backend=backend_for("mysql", server_version="10.11.6-MariaDB"),
    )
    statement = review.statements[0]
    assert statement.static.rules == ["MR-MYSQL-COPY-ALTER"] and statement.static.rewrite
    assert statement.final.source == "traced" and statement.final.risk == Risk.low
    assert "MR-MYSQL-COPY-ALTER" not in {f.rule for f in review.findings}
    assert "ALGORITHM: static COPY, probe INSTANT" in statement.disagreements


def test_a_probed_copy_carries_the_lock_the_server_accepted() -> None:
    lock = TracedLock(relation="shop_order", relkind="table", mode="SHARED")
    probe = Trace(method="probe", algorithm="COPY", locks=[lock])
    op = OperationInfo(
        index=0,
        kind="AlterField",
        path="django.db.migrations.operations.AlterField",
        describe="Alter field quantity on order",
        model="order",
        table="shop_order",
        field_name="quantity",
        old_field=FieldInfo(type="django.db.models.IntegerField", db_type="integer"),
        field=FieldInfo(type="django.db.models.BigIntegerField", db_type="bigint"),
    )
    m = migration("ALTER TABLE `shop_order` MODIFY `quantity` bigint NOT NULL;", probe, op)
    review = review_migration(
        m,
        backend=backend_for("mysql", server_version="10.11.6-MariaDB"),
    )
    statement = review.statements[0]
    assert statement.disagreements == []  # the operation told the static side the old type
    assert [(lock.mode, lock.blocks) for lock in statement.final.locks] == [
        ("SHARED", "writes"),
        ("METADATA (brief)", "reads"),
    ]
    finding = next(f for f in review.findings if f.rule == "MR-MYSQL-COPY-ALTER")
    assert finding.risk == Risk.high and finding.operation == 0
    assert "state_operations" in (finding.safer or "")


# -- SQLite ------------------------------------------------------------------------------------

REMAKE = """\
CREATE TABLE "new__shop_order" ("id" integer NOT NULL PRIMARY KEY, "quantity" bigint NOT NULL);
INSERT INTO "new__shop_order" ("id", "quantity") SELECT "id", "quantity" FROM "shop_order";
DROP TABLE "shop_order";
ALTER TABLE "new__shop_order" RENAME TO "shop_order";
CREATE INDEX "shop_order_quantity_idx" ON "shop_order" ("quantity");
ALTER TABLE "shop_order" ADD COLUMN "note" text NULL;
ALTER TABLE "shop_order" DROP COLUMN "fax";
CREATE INDEX "shop_order_note_idx" ON "shop_order" ("note");
DROP TABLE "shop_wishlist";
"""


def test_sqlite_reads_django_s_table_remake() -> None:
    reviews = classify_sql(REMAKE, backend=backend_for("sqlite"))
    summary = [(r.final.risk, r.final.rewrite, r.final.rules) for r in reviews]
    assert summary == [
        (Risk.safe, False, []),  # the new table: nobody uses it yet
        (Risk.high, True, ["MR-SQLITE-REWRITE"]),  # the copy, under the database write lock
        (Risk.low, False, []),  # part of the remake: no hazard
        (Risk.low, False, []),
        (Risk.high, False, []),  # the remade table's index: read again, but part of the remake
        (Risk.low, False, []),  # ADD COLUMN changes the schema only
        (Risk.high, True, ["MR-DROP-COLUMN", "MR-SQLITE-REWRITE"]),  # DROP COLUMN rewrites rows
        (Risk.high, False, ["MR-SQLITE-INDEX"]),
        (Risk.high, False, ["MR-DROP-TABLE"]),
    ]
    copy = reviews[1].final
    assert [(lock.relation, lock.mode, lock.blocks) for lock in copy.locks] == [
        ("shop_order", "DATABASE-WRITE", "writes")
    ]
    assert any("WAL mode" in note for note in copy.notes)


# -- the catalogue -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule", [r for r in RULES.values() if r.bad.lang in ("mysql", "sqlite")], ids=str
)
def test_bad_examples_hit_their_rule_and_safe_ones_do_not(rule) -> None:
    backend = rule.bad.lang
    server = "8.0.36" if backend == "mysql" else None
    bad = classify_sql(rule.bad.code, backend=backend_for(backend, server_version=server))
    assert rule.id in {r for s in bad for r in s.final.rules}
    safe = classify_sql(rule.safe.code, backend=backend_for(backend, server_version=server))
    assert rule.id not in {r for s in safe for r in s.final.rules}


def test_the_lock_wait_timeout_rule_follows_set_lock_wait_timeout() -> None:
    sql = "ALTER TABLE `shop_order` ADD COLUMN `paid` bool NULL;"
    bare = review_migration(migration(sql, None), backend=backend_for("mysql"))
    assert "MR-MYSQL-NO-LOCK-WAIT-TIMEOUT" in {f.rule for f in bare.findings}
    guarded = migration(sql, None)
    guarded.statements.insert(
        0, CollectedStatement(index=0, sql="SET SESSION lock_wait_timeout = 5;")
    )
    guarded.statements[1].index = 1
    review = review_migration(guarded, backend=backend_for("mysql"))
    assert "MR-MYSQL-NO-LOCK-WAIT-TIMEOUT" not in {f.rule for f in review.findings}


def test_safer_code_is_valid_python_in_the_backend_s_sql() -> None:
    op = OperationInfo(
        index=0,
        kind="RemoveField",
        path="django.db.migrations.operations.RemoveField",
        describe="Remove field fax from customer",
        model="customer",
        table="shop_customer",
        field_name="fax",
        old_field=FieldInfo(type="django.db.models.CharField", db_type="varchar(20)"),
    )
    m = migration("ALTER TABLE `shop_customer` DROP COLUMN `fax`;", None, op)
    review = review_migration(
        m,
        backend=backend_for("mysql", server_version="8.0.36"),
    )
    safer = next(f.safer for f in review.findings if f.rule == "MR-DROP-COLUMN") or ""
    assert "DROP COLUMN `fax`" in safer and '"fax"' not in safer
    assert "AlterField('customer', 'fax', models.CharField(max_length=20, null=True))" in safer
    for block in safer.split("```python\n")[1:]:
        compile(block.split("```")[0], "safer", "exec")


# -- check-sql --dialect -----------------------------------------------------------------------


def test_check_sql_reads_mysql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "0010.sql"
    path.write_text("ALTER TABLE shop_order MODIFY quantity bigint NOT NULL;\n", encoding="utf-8")
    assert main(["check-sql", "--dialect", "mysql", str(path)]) == 1
    out = capsys.readouterr().out
    assert "MR-MYSQL-COPY-ALTER" in out and "0010.sql:1: high" in out
    assert main(["check-sql", "--dialect", "mysql", "--fail-on", "critical", str(path)]) == 0


def test_check_sql_refuses_trace_and_bad_versions_for_mysql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "0010.sql"
    path.write_text("ALTER TABLE shop_order ADD COLUMN paid bool NULL;\n", encoding="utf-8")
    assert main(["check-sql", "--dialect", "mysql", "--trace", str(path)]) == 2
    assert "--trace runs the SQL on PostgreSQL only" in capsys.readouterr().err
    assert main(["check-sql", "--dialect", "mysql", "--server-version", "latest", str(path)]) == 2
    assert "not a MySQL or MariaDB version" in capsys.readouterr().err
