"""The backend interface: every backend gives the one review loop the same small surface, and the
loop treats them alike (verdicts, the kind of work on them, findings, migration rules)."""

from __future__ import annotations

import pytest

from bot.classify import Schema, backend_for, classify_sql, review_migration
from bot.classify.backend import Backend
from bot.classify.risk import Reading
from bot.classify.rules import RULES
from bot.errors import ReviewError
from bot.models import ChangeKind, CollectedMigration, CollectedStatement, OperationInfo, Risk

BACKENDS = {
    "postgresql": backend_for("postgresql", pg_version=17),
    "mysql": backend_for("mysql", server_version="8.0.36"),
    "sqlite": backend_for("sqlite"),
}


def migration(*statements: str, atomic: bool = True, ops: list[OperationInfo] | None = None):
    return CollectedMigration(
        app_label="shop",
        name="0009_x",
        file="shop/migrations/0009_x.py",
        change=ChangeKind.added,
        atomic=atomic,
        operations=ops or [],
        statements=[
            CollectedStatement(index=n, sql=sql, operation=0 if ops else None)
            for n, sql in enumerate(statements)
        ],
    )


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_every_backend_gives_the_same_surface(name: str) -> None:
    backend = BACKENDS[name]
    assert isinstance(backend, Backend) and backend.name == name
    assert set(backend.advice) <= set(RULES), set(backend.advice) - set(RULES)
    analyzer = backend.analyzer(Schema(), None)
    reading = analyzer.read("UPDATE shop_order SET paid = 1", None, None)
    assert isinstance(reading, Reading) and reading.traced is None
    assert [hit.rule for hit in reading.static.hits] == ["MR-DML-UNBOUNDED"]
    assert reading.static.work.kind == "dml" and reading.static.work.verb == "updates"
    assert dict(analyzer.held) == {}


def test_an_unknown_backend_is_an_error_naming_the_ones_there_are() -> None:
    with pytest.raises(ReviewError, match="oracle") as caught:
        backend_for("oracle")
    assert "SQLite" in (caught.value.error.hint or "")


@pytest.mark.parametrize(
    ("name", "sql", "kind"),
    [
        ("postgresql", "ALTER TABLE t VALIDATE CONSTRAINT c", "scan"),
        ("postgresql", "CREATE INDEX CONCURRENTLY i ON t (a)", "index-concurrent"),
        ("postgresql", "ALTER TABLE t ALTER COLUMN a TYPE bigint", "rewrite"),
        ("postgresql", "INSERT INTO t SELECT * FROM u", "dml"),
        ("mysql", "ALTER TABLE t ADD INDEX i (a)", "index"),
        ("mysql", "ALTER TABLE t MODIFY a bigint NOT NULL", "rewrite"),
        ("sqlite", "CREATE INDEX i ON t (a)", "index"),
        ("sqlite", "ALTER TABLE t ADD COLUMN b int NULL", "catalog"),
    ],
)
def test_the_kind_of_work_travels_on_the_verdict(name: str, sql: str, kind: str) -> None:
    """The estimate reads it there; it no longer parses the SQL itself."""
    [review] = classify_sql(sql, backend=BACKENDS[name])
    assert review.final.work is not None and review.final.work.kind == kind
    assert review.static.work == review.final.work


def test_a_lock_finding_carries_the_risk_of_its_locks_on_every_backend() -> None:
    """One rule for all: MySQL 5.7 rebuilds the table to drop a column while writes go on (a
    low lock risk), and dropping the column is a high hazard of its own."""
    backend = backend_for("mysql", server_version="5.7.44")
    review = review_migration(
        migration("ALTER TABLE `shop_order` DROP COLUMN `note`"), backend=backend
    )
    risks = {f.rule: f.risk for f in review.findings}
    assert risks["MR-MYSQL-REBUILD"] == Risk.low
    assert risks["MR-DROP-COLUMN"] == Risk.high
    assert review.statements[0].final.risk == Risk.high


@pytest.mark.parametrize(
    ("name", "rule"),
    [("postgresql", "MR-NO-LOCK-TIMEOUT"), ("mysql", "MR-MYSQL-NO-LOCK-WAIT-TIMEOUT")],
)
def test_the_lock_timeout_rule_is_the_backends_own(name: str, rule: str) -> None:
    schema = Schema()
    table = "CREATE TABLE shop_order (id int, note text NULL)"
    classify_sql(table, backend=BACKENDS[name], schema=schema)
    m = migration("ALTER TABLE shop_order ADD COLUMN paid int NULL")
    review = review_migration(m, backend=BACKENDS[name], schema=schema)
    found = [f for f in review.findings if f.rule.endswith("TIMEOUT")]
    assert [f.rule for f in found] == [rule]
    assert "`shop_order`" in found[0].message


def test_sqlite_has_no_lock_timeout_rule_and_runs_data_migrations_under_its_write_lock() -> None:
    run_python = OperationInfo(
        index=0, kind="RunPython", path="django.db.migrations.RunPython", describe="Raw Python"
    )
    m = migration("ALTER TABLE shop_order ADD COLUMN paid int NULL", ops=[run_python])
    review = review_migration(m, backend=BACKENDS["sqlite"])
    rules = [f.rule for f in review.findings]
    assert "MR-DATA-MIGRATION" in rules and not any(r.endswith("TIMEOUT") for r in rules)
    data = next(f for f in review.findings if f.rule == "MR-DATA-MIGRATION")
    assert "same transaction as the migration's schema changes" in data.message
    mysql = review_migration(m, backend=BACKENDS["mysql"])
    data = next(f for f in mysql.findings if f.rule == "MR-DATA-MIGRATION")
    assert "same transaction" not in data.message  # MySQL commits DDL at once
