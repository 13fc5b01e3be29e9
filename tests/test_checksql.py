"""``migration-review check-sql``: JSON and text output, exit codes, errors, and ``--trace``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

SCRIPT = """\
CREATE TABLE shop_order (id bigint PRIMARY KEY, status text);

-- the index the dashboard needs
CREATE INDEX shop_order_status_idx ON shop_order (status);
BEGIN;
ALTER TABLE shop_order ADD COLUMN paid boolean;
UPDATE shop_order SET paid = false;
COMMIT;
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "0008_order.sql"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check-sql", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_lists_every_statement_with_its_verdict(
    script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, str(script), "--format", "json")
    statements = json.loads(out)
    assert [s["line"] for s in statements] == [1, 4, 5, 6, 7, 8]
    for item in statements:
        assert {
            "sql",
            "locks",
            "blocks",
            "rewrite",
            "scan",
            "risk",
            "rules",
            "file",
            "line",
        } <= set(item)
        assert item["file"] == str(script)
    index = statements[1]
    assert index["sql"] == "CREATE INDEX shop_order_status_idx ON shop_order (status);"
    assert index["locks"] == [{"relation": "shop_order", "mode": "ShareLock", "blocks": "writes"}]
    assert (index["blocks"], index["rewrite"], index["scan"]) == ("writes", False, True)
    assert (index["risk"], index["rules"]) == ("high", ["MR-LOCK-INDEX"])
    assert index["source"] == "static" and index["traced"] is None
    update = statements[4]
    assert update["blocks"] == "reads"
    assert update["rules"] == ["MR-DML-UNBOUNDED", "MR-WORK-UNDER-HELD-LOCK"]
    assert statements[0]["risk"] == "safe" and statements[0]["locks"] == []
    assert code == 1


def test_text_output_points_at_file_and_line(
    script: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, str(script))
    assert f"{script}:4: high: CREATE INDEX shop_order_status_idx" in out
    assert "MR-LOCK-INDEX: CREATE INDEX without CONCURRENTLY blocks writes" in out
    assert "ShareLock on shop_order" in out
    assert out.rstrip().endswith("1 file, 6 statements: 2 high, 1 low, 3 safe")
    assert code == 1


def test_fail_on_threshold(script: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, str(script), "--fail-on", "critical")[0] == 0
    assert run(capsys, str(script), "--fail-on", "low")[0] == 1


def test_pg_version_gates_the_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "default.sql"
    path.write_text("ALTER TABLE shop_order ADD COLUMN priority integer DEFAULT 0;\n")
    old = json.loads(run(capsys, str(path), "--format", "json", "--pg-version", "10")[1])
    new = json.loads(run(capsys, str(path), "--format", "json", "--pg-version", "11")[1])
    assert old[0]["rewrite"] and old[0]["rules"] == ["MR-ADD-COLUMN-DEFAULT-PRE11"]
    assert not new[0]["rewrite"] and new[0]["rules"] == []


def test_several_files(script: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other.sql"
    other.write_text("-- nothing but a comment\n")
    code, out, _ = run(capsys, str(script), str(other), "--format", "json")
    assert {item["file"] for item in json.loads(out)} == {str(script)}
    assert code == 1


def test_missing_file_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.sql"
    code, out, err = run(capsys, str(missing))
    assert code == 2 and out == ""
    assert f"{missing}: no such file" in err


def test_unreadable_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "latin1.sql"
    binary.write_bytes("SELECT 'caf\xe9';".encode("latin-1"))
    code, _, err = run(capsys, str(binary))
    assert code == 2 and f"{binary}: is not UTF-8 text" in err
    code, _, err = run(capsys, str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_parse_error_points_at_the_statement_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.sql"
    path.write_text("SELECT 1;\nALTER TABLE t\n  ADD COLUMN x int garbage;\n")
    code, out, err = run(capsys, str(path), "--format", "json")
    assert code == 2 and out == ""
    assert f"{path}:3:" in err
    assert "statement at line 2 does not parse" in err and '"garbage"' in err


def test_database_url_needs_trace(script: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(script), "--database-url", "postgresql://x/y")
    assert code == 2 and "--trace" in err


def test_trace_shows_both_verdicts(
    script: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, str(script), "--trace", "--database-url", pg_url, "--format", "json")
    statements = json.loads(out)
    index = statements[1]
    assert index["source"] == "traced"
    assert index["traced"]["locks"] == [
        {"relation": "shop_order", "mode": "ShareLock", "blocks": "writes"}
    ]
    assert index["static"]["locks"] == index["traced"]["locks"]
    assert index["disagreements"] == []
    add = statements[3]
    assert add["traced"]["locks"][0]["mode"] == "AccessExclusiveLock"
    assert code == 1


def test_trace_text_output(script: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, str(script), "--trace", "--database-url", pg_url)
    assert "traced: ShareLock on shop_order" in out
    assert "static: ShareLock on shop_order" in out


def test_a_statement_that_fails_on_the_scratch_database_is_an_error_not_a_pass(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = tmp_path / "broken.sql"
    sql.write_text("CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN n int REFERENCES nowhere;\n")
    code, out, err = run(capsys, str(sql), "--trace", "--database-url", pg_url, "--format", "json")
    assert code == 2
    statements = json.loads(out)
    assert (
        statements[1]["source"] == "static" and 'relation "nowhere"' in statements[1]["trace_error"]
    )
    assert f"{sql}:2: the trace failed: the statement failed on the scratch database" in err
    code, out, err = run(capsys, str(sql), "--trace", "--database-url", pg_url)
    assert code == 2 and "the trace failed" in err
