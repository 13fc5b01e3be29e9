"""SQLite end to end: the collector renders the kiosk project's migrations on a temporary file
exactly as ``manage.py sqlmigrate`` prints them, removes the file, and ``analyze`` reviews a
repository with static verdicts (SQLite has nothing to trace: one lock, the whole database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.classify import backend_for
from bot.cli import main
from bot.collect import collect
from bot.errors import ReviewError
from bot.models import CollectorOutput, Report
from bot.render import render_markdown
from tests.kiosk import (
    KIOSK,
    SQLITE_SETTINGS,
    build_repository,
    migration_file,
    new_migrations,
    sqlmigrate_outputs,
)
from tests.reviews import review_in_order


@pytest.fixture(scope="module")
def collected() -> CollectorOutput:
    files = [migration_file(app, name) for app, name in new_migrations(mysql=False)]
    return collect(KIOSK, files, python=None, settings=SQLITE_SETTINGS, database_url=None)


def test_rendered_sql_is_what_sqlmigrate_prints(collected: CollectorOutput, tmp_path: Path) -> None:
    assert collected.backend == "sqlite" and not collected.errors
    env = {"KIOSK_SQLITE_PATH": str(tmp_path / "kiosk.sqlite3")}
    expected = sqlmigrate_outputs(new_migrations(mysql=False), settings=SQLITE_SETTINGS, env=env)
    rendered = {f"{m.app_label}.{m.name}": m.sqlmigrate for m in collected.migrations}
    assert rendered == expected
    # SQLite rolls DDL back: an atomic migration is one transaction, as sqlmigrate shows it.
    assert all(text.startswith("BEGIN;") for text in rendered.values())
    assert 'CREATE TABLE "new__inventory_item"' in rendered["inventory.0010_item_quantity_bigint"]


def test_the_temporary_file_is_removed(collected: CollectorOutput) -> None:
    match = re.fullmatch(r"temporary SQLite file (.+)", collected.database)
    assert match is not None, collected.database
    assert not Path(match.group(1)).parent.exists()
    assert collected.server_version and collected.server_version.endswith("-SQLite")
    assert all(s.trace is None for m in collected.migrations for s in m.statements)


def test_the_remake_is_the_rewrite(collected: CollectorOutput) -> None:
    reviews = {m.name: m for m in review_in_order(collected.migrations, backend_for("sqlite"))}
    remake = reviews["0010_item_quantity_bigint"]
    copy = next(s for s in remake.statements if s.sql.startswith("INSERT INTO"))
    assert copy.final.rewrite and copy.final.rules == ["MR-SQLITE-REWRITE"]
    assert [lock.mode for lock in copy.final.locks] == ["DATABASE-WRITE"]
    assert remake.risk == "high"
    nullable = reviews["0003_item_color"]  # ALTER TABLE ADD COLUMN: no copy on SQLite
    assert nullable.risk == "low" and not nullable.statements[0].final.rewrite
    assert {f.rule for f in reviews["0019_rename_item_sku_reference"].findings} == {
        "MR-RENAME-COLUMN"
    }


def test_a_url_for_a_sqlite_project_is_an_error_naming_both() -> None:
    with pytest.raises(ReviewError) as caught:
        collect(
            KIOSK,
            [],
            python=None,
            settings=SQLITE_SETTINGS,
            database_url="postgresql://postgres@127.0.0.1:5432/postgres",
        )
    message = caught.value.error.message
    assert "postgresql://" in message and "django.db.backends.sqlite3" in message


def test_analyze_reviews_a_repository_on_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "project"
    head = ["0007_item_supplier", "0008_item_batch", "0009_remove_item_color"]
    build_repository(repo, head=[*head, "0010_item_quantity_bigint"])
    out = tmp_path / "report.json"
    args = ["analyze", "--repo", str(repo), "--base", "main", "--settings", SQLITE_SETTINGS]
    code = main([*args, "--format", "json", "--output", str(out)])
    report = Report.model_validate_json(out.read_text())
    assert code == 1, capsys.readouterr().err
    assert (report.backend, report.decision, report.errors) == ("sqlite", "fail", [])
    assert [m.label for m in report.migrations] == [
        *(f"inventory.{name}" for name in head),
        "inventory.0010_item_quantity_bigint",
    ]
    statements = [s for m in report.migrations for s in m.statements]
    assert statements and all(s.final.source == "static" for s in statements)
    markdown = render_markdown(report)
    assert "Migration review on SQLite: 4 high-risk migrations of 4" in markdown
    assert "Static analysis only" in markdown and "rules for SQLite" in markdown
    assert "MR-SQLITE-REWRITE" in markdown


def test_database_url_in_the_environment_picks_the_backend_of_such_settings(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings that read DATABASE_URL fall back to SQLite without it; with it set to a
    PostgreSQL URL the review runs on PostgreSQL (on a scratch database, not that URL's)."""
    files = [migration_file("inventory", "0003_item_color")]
    settings = "kiosk.settings_env"
    monkeypatch.delenv("DATABASE_URL", raising=False)
    local = collect(KIOSK, files, python=None, settings=settings, database_url=None)
    assert local.backend == "sqlite"
    monkeypatch.setenv("DATABASE_URL", "postgres://nowhere.invalid/production")
    deployed = collect(KIOSK, files, python=None, settings=settings, database_url=pg_url)
    assert deployed.backend == "postgresql"
    [migration] = deployed.migrations
    assert migration.error is None
    assert migration.sqlmigrate.startswith("BEGIN;")
    assert "nowhere.invalid" not in deployed.database
