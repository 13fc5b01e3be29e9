"""Verdicts on safer alternatives kept in the cache folder: a review that reads them back is the
review that verified them, and changing what decides a verdict verifies again (real PostgreSQL,
the corpus of tests/projects/advice)."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.alternative.verify import verify
from bot.demo import build_repository
from bot.models import Alternative, Report
from bot.pipeline import ReviewOptions, review
from bot.render import render_markdown
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "projects" / "advice"
VERIFIED = "applied on the scratch database: same schema and state, no blocking scan"


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> dict[str, Any]:
    """The corpus reviewed once with a cache folder: the base snapshot and the verdicts saved."""
    tmp = tmp_path_factory.mktemp("verdicts")
    repo = tmp / "project"
    base, head = build_repository(repo, CORPUS)
    options = ReviewOptions(
        repo=repo,
        base=base,
        head=head,
        python=sys.executable,
        database_url=pg_url,
        cache_dir=tmp / "cache",
    )
    return {"tmp": tmp, "repo": repo, "options": options, "report": review(options)}


def _offered(report: Report) -> dict[str, Alternative]:
    """The alternatives with files, in the order the review verified them, as yet unverified."""
    found: dict[str, Alternative] = {}
    for migration in report.migrations:
        for finding in migration.findings:
            if finding.alternative and finding.alternative.files:
                found.setdefault(migration.label, finding.alternative)
    return {
        label: alt.model_copy(update={"verified": False, "verification": None})
        for label, alt in found.items()
    }


def _verdicts(alternatives: dict[str, Alternative]) -> list[tuple[bool, str | None]]:
    return [(alt.verified, alt.verification) for alt in alternatives.values()]


def _verify(first: dict[str, Any], alternatives: dict[str, Alternative], cache: Path) -> int:
    options = first["options"]
    return verify(
        alternatives,
        first["repo"],
        python=sys.executable,
        settings=None,
        database_url=options.database_url,
        cache_dir=cache,
    )


def test_a_review_reading_the_verdicts_is_the_review_verifying_them(first, tmp_path):
    """Both start from the base snapshot; one verifies, one reads the verdicts the first review
    kept (each kept file is touched when read, the one verifying writes the same keys): the
    reports are the same but for what differs between any two runs."""
    kept = first["options"].cache_dir / "verdicts"
    assert sorted(kept.glob("*.json"))
    without = tmp_path / "without-verdicts"
    shutil.copytree(first["options"].cache_dir, without, ignore=shutil.ignore_patterns("verdicts"))
    for path in kept.glob("*.json"):
        os.utime(path, (0, 0))
    verifying = review(first["options"].model_copy(update={"cache_dir": without}))
    reading = review(first["options"])
    assert all(path.stat().st_mtime > 0 for path in kept.glob("*.json"))
    assert sorted(p.name for p in (without / "verdicts").glob("*.json")) == sorted(
        p.name for p in kept.glob("*.json")
    )
    offered = _offered(reading)
    assert len(offered) > 2 and any(alt.verified for alt in _offered_as_is(reading).values())

    assert _contract(verifying) == _contract(reading)
    assert _lines(verifying) == _lines(reading)


# What differs between two runs of one review: times, and the values of the corpus's callable
# defaults (a timestamp, a UUID), which Django evaluates again at every run.
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+00:00")
UUID_HEX = re.compile(r"\b[0-9a-f]{32}\b")


def _same_run(text: str) -> str:
    return UUID_HEX.sub("<uuid>", TIMESTAMP.sub("<now>", text))


def _contract(report: Report) -> Any:
    data = report.model_dump(mode="json")
    data.pop("generated_at"), data.pop("database")
    data["base_state"].pop("seconds")

    def timeless(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: timeless(v) for k, v in value.items() if k != "duration_ms"}
        if isinstance(value, list):
            return [timeless(v) for v in value]
        return _same_run(value) if isinstance(value, str) else value

    return timeless(data)


def _lines(report: Report) -> list[str]:
    footer = ("<sub>base state", "<sub>django-migration-review")
    text = _same_run(render_markdown(report))
    return [line for line in text.splitlines() if not line.startswith(footer)]


def _offered_as_is(report: Report) -> dict[str, Alternative]:
    return {
        m.label: f.alternative
        for m in report.migrations
        for f in m.findings
        if f.alternative and f.alternative.files
    }


def test_changing_what_decides_a_verdict_verifies_again(first, tmp_path):
    report, repo, cache = first["report"], first["repo"], first["options"].cache_dir
    expected = _verdicts(_offered_as_is(report))
    labels = list(_offered(report))
    one = labels[:1]

    def only(names: list[str]) -> dict[str, Alternative]:
        return {label: alt for label, alt in _offered(report).items() if label in names}

    # The same alternatives in the same order: every verdict is read back, as it was.
    again = _offered(report)
    assert _verify(first, again, cache) == len(labels)
    assert _verdicts(again) == expected
    # The first one alone starts where it started in the review: read back too.
    alone = only(one)
    assert _verify(first, alone, cache) == 1 and _verdicts(alone) == expected[:1]

    # An alternative's file changed: that one and the ones after it are verified again.
    store = "store.0002_book_subtitle_title_index"
    position = labels.index(store)
    changed = _offered(report)
    first_file, last_file = changed[store].files
    wrong = last_file.source.replace('fields=["title"]', 'fields=["isbn"]')
    assert wrong != last_file.source
    changed[store].files = [first_file, last_file.model_copy(update={"source": wrong})]
    assert _verify(first, changed, cache) == position
    assert not changed[store].verified
    assert "not the same schema" in (changed[store].verification or "")

    # A file of the repository changed (a comment in the original): verified again, same verdict.
    original = repo / next(m.file for m in report.migrations if m.label == one[0])
    source = original.read_text()
    try:
        original.write_text(source + "\n# reviewed\n")
        alone = only(one)
        assert _verify(first, alone, cache) == 0 and _verdicts(alone) == expected[:1]
    finally:
        original.write_text(source)

    # No base snapshot to start from: another starting state, verified again.
    bare = tmp_path / "verdicts-only"
    shutil.copytree(cache / "verdicts", bare / "verdicts")
    alone = only(one)
    assert _verify(first, alone, bare) == 0 and _verdicts(alone) == expected[:1]
    # Without a cache folder nothing is read or kept.
    alone = only(one)
    assert _verify(first, alone, None) == 0 and _verdicts(alone) == expected[:1]
    assert expected[0] == (True, VERIFIED)
