"""``migration-review demo`` as a user runs it: the installed command, in a fresh process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.models import Report
from bot.render import COMMENT_MARKER
from tests.test_pipeline import HEAD_MIGRATIONS


def demo(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    """Run the console script with a private TMPDIR, to see what it leaves behind."""
    script = Path(sys.executable).parent / "migration-review"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    return subprocess.run(
        [*command, "demo", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
        timeout=600,
        check=False,
    )


def test_demo_prints_the_review_exits_0_and_leaves_nothing(private_tmp: Path, pg_bin: Path) -> None:
    done = demo(tmp=private_tmp)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(COMMENT_MARKER)
    assert "**❌ Fails the check:**" in out  # the review says so; the demo itself succeeded
    for label in HEAD_MIGRATIONS:
        assert f"`{label}`" in out, label
    assert out.count("```sql") == len(HEAD_MIGRATIONS)
    assert "--   ↳ verified: ShareLock on shop_order (blocks writes)" in out
    assert 'CREATE INDEX CONCURRENTLY "shop_product_sku_idx"' in out
    assert list(private_tmp.iterdir()) == []  # repository, worktree and cluster all removed


def test_demo_with_fail_on_and_json_on_a_server(tmp_path: Path, pg_url: str) -> None:
    done = demo("--database-url", pg_url, "--format", "json", "--fail-on", "high", tmp=tmp_path)
    assert done.returncode == 1, done.stderr
    report = Report.model_validate_json(done.stdout)
    assert report.decision == "fail"
    assert {m.label for m in report.migrations} == HEAD_MIGRATIONS
    assert report.database and "127.0.0.1" in report.database


def test_demo_keep_leaves_the_repository(private_tmp: Path, pg_bin: Path) -> None:
    done = demo("--keep", "--fail-on", "critical", tmp=private_tmp)
    last = (done.stderr.strip().splitlines() or [""])[-1]
    assert " kept in " in last, done.stderr
    kept = Path(last.split(" kept in ")[-1])
    # Whatever the demo printed, nothing outside the test's own TMPDIR is removed.
    assert kept.is_absolute() and kept.is_relative_to(private_tmp), kept
    try:
        assert kept.is_dir() and (kept / "manage.py").is_file()
        log = subprocess.run(
            ["git", "-C", str(kept), "log", "--format=%s"], capture_output=True, text=True
        ).stdout.splitlines()
        assert len(log) == 2
        assert done.returncode == 0, done.stderr  # nothing in the demo is critical
    finally:
        shutil.rmtree(kept.parent, ignore_errors=True)


@pytest.mark.parametrize("missing", ["base", "head"])
def test_demo_without_fixtures_is_a_clear_error(tmp_path: Path, missing: str) -> None:
    from bot.demo import FIXTURES, build_repository
    from bot.errors import ReviewError

    fixtures = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, fixtures)
    shutil.rmtree(fixtures / missing)
    with pytest.raises(ReviewError, match="the demo project is missing") as caught:
        build_repository(tmp_path / "repo", fixtures)
    assert "reinstall django-migration-review" in (caught.value.error.hint or "")
