"""A migration of thousands of operations, through the real CLI on the embedded PostgreSQL.

1,800 ``RunSQL("CREATE TABLE ... (id serial PRIMARY KEY)")`` in one atomic migration hold 5,400
locks, more than a default cluster's lock table has room for ("out of shared memory"), and
every statement's trace once re-read and re-reported every lock held before it: the review must
finish, show its progress, and report each statement's own locks only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.demo import build_repository
from tests.test_pipeline import commit

ROOT = Path(__file__).resolve().parent.parent
TABLES = 1800


@pytest.mark.usefixtures("pg_bin")
def test_thousands_of_lock_taking_operations_finish_with_progress(tmp_path: Path) -> None:
    project = tmp_path / "project"
    base, _ = build_repository(project)
    sql = "CREATE TABLE t{} (id serial PRIMARY KEY)"
    operations = "".join(
        f"        migrations.RunSQL({sql.format(i)!r}, migrations.RunSQL.noop),\n"
        for i in range(TABLES)
    )
    (project / "shop" / "migrations" / "0009_huge.py").write_text(
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0008_remove_customer_fax')]\n"
        f"    operations = [\n{operations}    ]\n"
    )
    head = commit(project, "thousands of tables")
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "analyze", "--repo", str(project), "--base", base,
         "--head", head, "--python", sys.executable, "--format", "json", "--output", str(out),
         "--timeout", "400"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = json.loads(out.read_text())
    [huge] = [m for m in report["migrations"] if m["name"] == "0009_huge"]
    assert huge["error"] is None
    assert len(huge["statements"]) == TABLES
    assert "shop.0009_huge (new migration 11 of 11), operation " in done.stderr
    # Each statement reports what it did, not the thousands of locks held on tables it made.
    held = sum(len(s["trace"]["held"]) for s in huge["statements"] if s["trace"])
    assert held <= TABLES
    assert len(out.read_bytes()) < 4 * 1024 * TABLES
