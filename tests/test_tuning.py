"""Tuning on the demo's real review: a rule's risk set in the config, shown in the review."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.demo import build_repository
from bot.ignores import effective_risk
from bot.models import Risk
from bot.pipeline import ReviewOptions, review
from bot.render import render_markdown


def test_a_rules_risk_set_in_the_config_counts_and_is_shown(tmp_path: Path, pg_url: str) -> None:
    repo = tmp_path / "project"
    base, head = build_repository(repo)
    config = tmp_path / "review.toml"
    config.write_text('[rules]\nMR-LOCK-INDEX = "low"\n')
    options = ReviewOptions(
        repo=repo, base=base, head=head, python=sys.executable, database_url=pg_url, config=config
    )
    report = review(options)
    assert report.errors == []
    migration = next(m for m in report.migrations if m.label == "shop.0005_order_status_index")
    index = [f for f in migration.findings if f.rule == "MR-LOCK-INDEX"]
    assert index and all(f.risk == Risk.low and f.risk_default == Risk.high for f in index)
    assert all(f.risk_source == str(config) for f in index)
    assert effective_risk(migration) < Risk.high
    statement = migration.statements[index[0].statement]
    assert statement.final.risk == Risk.high  # what the statement does is still said
    text = render_markdown(report)
    assert f"low as set in `{config}` (the rule's default: high)" in text
    assert "ShareLock on shop_order" in text
