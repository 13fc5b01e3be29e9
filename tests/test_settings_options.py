"""The scratch database runs with the session settings of the project's own database entry."""

from __future__ import annotations

import pytest

from bot.classify import backend_for, review_migration
from bot.collect import collect
from tests.kiosk import KIOSK, migration_file

SETTINGS = "kiosk.settings_postgresql"


def rules_with_timeout(timeout: str | None, pg_url: str, monkeypatch: pytest.MonkeyPatch):
    if timeout is None:
        monkeypatch.delenv("KIOSK_LOCK_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("KIOSK_LOCK_TIMEOUT", timeout)
    output = collect(
        KIOSK,
        [migration_file("inventory", "0003_item_color")],
        python=None,
        settings=SETTINGS,
        database_url=pg_url,
    )
    [migration] = output.migrations
    assert migration.error is None, migration.error
    traces = [s.trace for s in migration.statements if s.trace]
    assert traces
    review = review_migration(
        migration, backend=backend_for("postgresql", pg_version=output.server_version_num // 10000)
    )
    return {t.lock_timeout for t in traces}, {f.rule for f in review.findings}


def test_a_lock_timeout_in_the_settings_options_is_in_effect_and_satisfies_the_rule(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeouts, rules = rules_with_timeout("5s", pg_url, monkeypatch)
    assert timeouts == {"5s"}
    assert "MR-NO-LOCK-TIMEOUT" not in rules


def test_without_one_the_rule_fires(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    timeouts, rules = rules_with_timeout(None, pg_url, monkeypatch)
    assert timeouts == {"0"}
    assert "MR-NO-LOCK-TIMEOUT" in rules
