"""The review comment: edge cases from small constructed reports.

The rendering of a real review (the demo project through the whole pipeline on PostgreSQL) is
checked in tests/test_pipeline.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import ReviewError
from bot.markdown import code_span
from bot.models import (
    ChangeKind,
    Finding,
    Impact,
    Lock,
    MigrationFile,
    MigrationReview,
    Report,
    Risk,
    StatementReview,
    ToolError,
    Trace,
    TracedLock,
    Verdict,
)
from bot.render import COMMENT_MARKER, render_markdown, short_sql

INDEX_SQL = 'CREATE INDEX "shop_order_status_idx" ON "shop_order" ("status");'
SAFER = (
    "build it concurrently:\n```python\n"
    "AddIndexConcurrently('order', models.Index(fields=['status'], name='shop_order_status_idx'))"
    "\n```"
)


def index_migration(
    name: str = "0005_order_status_index", *, traced: bool = True, ignored: bool = False
) -> MigrationReview:
    lock = Lock(relation="shop_order", mode="ShareLock", blocks="writes")
    static = Verdict(
        source="static", locks=[lock], blocks="writes", risk=Risk.high, rules=["MR-LOCK-INDEX"]
    )
    final = static.model_copy(update={"source": "traced"}) if traced else static
    trace = (
        Trace(
            method="transaction",
            locks=[TracedLock(relation="shop_order", relkind="table", mode="ShareLock")],
        )
        if traced
        else Trace(method="static-only", note="not traced: --no-trace")
    )
    return MigrationReview(
        app_label="shop",
        name=name,
        file=f"shop/migrations/{name}.py",
        change=ChangeKind.added,
        atomic=True,
        statements=[
            StatementReview(
                index=0,
                sql=INDEX_SQL,
                static=static,
                traced=final if traced else None,
                final=final,
                trace=trace,
                impact=Impact(
                    kind="index",
                    table="shop_order",
                    blocks="writes",
                    rows=12_400_000,
                    bytes=3_300_000_000,
                    seconds_low=40,
                    seconds_high=120,
                    summary="blocks writes on shop_order, ~12.4M rows / 3.1 GB, ~40 s to 2 min",
                ),
            )
        ],
        findings=[
            Finding(
                rule="MR-LOCK-INDEX",
                risk=Risk.high,
                title="CREATE INDEX blocks writes to shop_order",
                message="CREATE INDEX holds a SHARE lock for the whole build.",
                safer=SAFER,
                migration=f"shop.{name}",
                statement=0,
                ignored=ignored,
                ignore_reason="orders are archived nightly" if ignored else None,
                ignore_source="inline" if ignored else None,
            )
        ],
        risk=Risk.high,
    )


def nullable_migration() -> MigrationReview:
    verdict = Verdict(
        source="traced",
        locks=[Lock(relation="shop_order", mode="AccessExclusiveLock", blocks="reads")],
        blocks="reads",
        risk=Risk.low,
    )
    return MigrationReview(
        app_label="shop",
        name="0002_order_paid_at",
        file="shop/migrations/0002_order_paid_at.py",
        change=ChangeKind.added,
        atomic=True,
        statements=[
            StatementReview(
                index=0,
                sql='ALTER TABLE "shop_order" ADD COLUMN "paid_at" timestamp with time zone NULL;',
                static=verdict.model_copy(update={"source": "static"}),
                traced=verdict,
                final=verdict,
            )
        ],
        risk=Risk.low,
    )


def report(*migrations: MigrationReview, **fields) -> Report:
    files = [MigrationFile(path=m.file, change=m.change) for m in migrations]
    values = {
        "tool_version": "0.1.0",
        "base_sha": "a1b2c3d4e5f6",
        "head_sha": "d4e5f6a7b8c9",
        "merge_base": "a1b2c3d4e5f6",
        "server_version_num": 150019,
        "pg_version": 15,
        "files": files,
        "migrations": list(migrations),
        "risk": Risk.worst([m.risk for m in migrations]),
        "decision": "fail" if any(m.risk >= Risk.high for m in migrations) else "pass",
    }
    return Report(**(values | fields))


def test_layout_decision_above_the_evidence() -> None:
    text = render_markdown(report(nullable_migration(), index_migration()))
    assert text.startswith(COMMENT_MARKER + "\n")
    headline = text.splitlines()[1]
    assert headline == "## 🔴 Migration review: 1 high-risk migration of 2"
    row = next(line for line in text.splitlines() if "`shop.0005_order_status_index`" in line)
    assert row.startswith("| `shop.0005_order_status_index` | 🔴 high | `CREATE INDEX")
    assert re.search(r"\| writes \| `shop_order` \(12(\.4)?M rows, 3\.1 GB\) \| ~40 s", row)
    assert "**❌ Fails the check:** 1 migration reaches `high`" in text
    assert "Locks verified on PostgreSQL 15.19" in text
    # Sections: the risky migration first, with the safer code, then the SQL one click away.
    section = text.index("### 🔴 `shop.0005_order_status_index` — CREATE INDEX blocks writes")
    assert text.index("**Safer:** build it concurrently") > section
    details = text.index("<details><summary>SQL and traced locks (1 statement)</summary>", section)
    sql = text[details:]
    verified = "--   ↳ verified: ShareLock on shop_order (blocks writes)"
    assert f"BEGIN;\n{INDEX_SQL}\n{verified}" in sql
    assert "COMMIT;" in sql
    # The low-risk migration is collapsed but its SQL is there.
    assert "<summary>🟢 <code>shop.0002_order_paid_at</code> — low" in text
    assert 'ADD COLUMN "paid_at"' in text
    footer = text.strip().splitlines()[-1]
    assert footer.startswith("<sub>django-migration-review 0.1.0 · base `a1b2c3d` → head `d4e5f6a`")


def test_static_only_verdicts_are_marked() -> None:
    text = render_markdown(report(index_migration(traced=False)))
    assert "--   ↳ static only: ShareLock on shop_order (blocks writes)" in text
    assert "--   ↳ not traced: --no-trace" in text
    assert "Static analysis only" in text
    assert "verified:" not in text


def test_acknowledged_finding_passes_and_is_shown() -> None:
    m = index_migration(ignored=True)
    text = render_markdown(report(m, decision="pass", risk=Risk.safe))
    assert "🔴 high acknowledged" not in text  # the row shows the effective risk and the real one
    row = next(line for line in text.splitlines() if line.startswith("| `shop.0005"))
    assert "⚪ safe (high acknowledged)" in row
    assert "**✅ Passes the check:** nothing reaches `high`" in text
    assert (
        "✅ acknowledged: `MR-LOCK-INDEX` on `shop.0005_order_status_index` — "
        "“orders are archived nightly” (inline ignore)" in text
    )


def test_errors_are_unmissable_and_never_read_as_no_risk() -> None:
    error = ToolError(
        stage="collect",
        message="could not import settings 'demo.settingz'",
        file="manage.py",
        hint="pass --settings the settings module",
        detail="Traceback (most recent call last): ...",
    )
    r = report(
        errors=[error],
        decision="error",
        files=[MigrationFile(path="shop/migrations/0005_x.py", change=ChangeKind.added)],
    )
    text = render_markdown(r)
    lines = text.splitlines()
    assert lines[1] == "## ⚠️ Migration review failed: 1 error — this is not a pass"
    assert "> [!CAUTION]" in lines[2:5]
    assert "could not import settings 'demo.settingz'" in text
    assert "*What to do:* pass --settings the settings module" in text
    assert "Not reviewed: `shop/migrations/0005_x.py`" in text
    assert "**⚠️ Error:**" in text
    assert "Passes" not in text and "✅" not in text.split("---")[0]


def test_a_migration_error_is_shown_in_its_row_and_section() -> None:
    broken = MigrationReview(
        app_label="shop",
        name="0009_broken",
        file="shop/migrations/0009_broken.py",
        change=ChangeKind.added,
        atomic=True,
        error=ToolError(stage="collect", message="NameError: name 'modles' is not defined"),
    )
    text = render_markdown(report(nullable_migration(), broken, decision="error"))
    assert "| `shop.0009_broken` | ⚠️ error |" in text
    assert "### ⚠️ `shop.0009_broken` — could not be reviewed" in text
    assert "NameError: name 'modles' is not defined" in text
    assert "failed: 1 error" in text


def test_no_migration_changes() -> None:
    text = render_markdown(report())
    assert text.splitlines()[1] == "## ✅ Migration review: no migration changes"
    assert "this change touches no migration" in text
    assert "| migration |" not in text


def test_deleted_and_modified_are_labelled() -> None:
    m = index_migration()
    m.change = ChangeKind.modified
    text = render_markdown(report(m))
    assert "| `shop.0005_order_status_index` (modified) |" in text
    assert "`shop/migrations/0005_order_status_index.py` · modified" in text


def big_report(count: int = 30) -> Report:
    migrations = [index_migration(f"{i:04d}_index_{'x' * 20}") for i in range(count)]
    for m in migrations:
        m.statements[0].sql = INDEX_SQL + "\n-- padding " + "y" * 2000
    return report(*migrations)


def test_max_chars_collapses_the_sql_first() -> None:
    r = big_report()
    full = render_markdown(r)
    collapsed = render_markdown(r, max_chars=len(full) - 1)
    assert len(collapsed) <= len(full) - 1
    assert "```sql" not in collapsed
    assert "**Safer:** build it concurrently" in collapsed
    assert "the full review is in the job summary and the JSON report" in collapsed
    assert collapsed.startswith(COMMENT_MARKER)


def test_max_chars_then_keeps_only_the_findings() -> None:
    r = big_report()
    collapsed = render_markdown(r, max_chars=10**9 - 1)
    assert "```sql" in collapsed  # no limit reached: nothing dropped
    limit = len(render_markdown(r, max_chars=len(render_markdown(r)) - 1)) - 1
    findings = render_markdown(r, max_chars=limit)
    assert len(findings) <= limit
    assert "Safer" not in findings
    assert "- 🔴 `shop.0000_index_xxxxxxxxxxxxxxxxxxxx`: **CREATE INDEX blocks writes" in findings
    assert "| migration |" in findings
    assert "job summary and the JSON report" in findings


def test_max_chars_last_resort_cuts_but_keeps_marker_and_note() -> None:
    text = render_markdown(big_report(), max_chars=1500)
    assert len(text) <= 1500
    assert text.startswith(COMMENT_MARKER)
    assert text.rstrip().endswith("the full review is in the job summary and the JSON report.")


def test_template_override_by_name(tmp_path: Path) -> None:
    (tmp_path / "footer.md.j2").write_text("custom footer for {{ report.head_sha|sha }}\n")
    text = render_markdown(report(index_migration()), template_dir=tmp_path)
    assert text.rstrip().endswith("custom footer for d4e5f6a")
    assert "### 🔴 `shop.0005_order_status_index`" in text  # the rest is still ours


def test_broken_template_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "headline.md.j2").write_text("## fine\n{% if %}\n")
    with pytest.raises(ReviewError) as caught:
        render_markdown(report(), template_dir=tmp_path)
    assert caught.value.error.stage == "render"
    assert caught.value.error.file == f"{tmp_path / 'headline.md.j2'}:2"


def test_undefined_name_in_a_template_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "footer.md.j2").write_text("---\n{{ report.no_such_field }}\n")
    with pytest.raises(ReviewError, match="no_such_field") as caught:
        render_markdown(report(), template_dir=tmp_path)
    assert caught.value.error.file == f"{tmp_path / 'footer.md.j2'}:2"


def test_missing_template_dir(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match="does not exist"):
        render_markdown(report(), template_dir=tmp_path / "nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a | b", "`a | b`"),
        ("uses `backticks`", "`` uses `backticks` ``"),
        ("a`b", "``a`b``"),
        ("`edge`", "`` `edge` ``"),
        ("multi\n  line", "`multi line`"),
    ],
)
def test_code_spans_survive_tables(text: str, expected: str) -> None:
    assert code_span(text) == expected


def test_pipes_in_sql_do_not_break_the_table() -> None:
    m = nullable_migration()
    m.statements[0].sql = "UPDATE \"shop_order\" SET note = note || 'x';"
    text = render_markdown(report(m))
    row = next(line for line in text.splitlines() if line.startswith("| `shop.0002"))
    assert "`UPDATE \"shop_order\" SET note = note \\|\\| 'x'`" in row


def test_short_sql_drops_comments_and_cuts() -> None:
    sql = '--\n-- Add field\n--\nALTER TABLE "t"\n   ADD COLUMN "c" int NULL;'
    assert short_sql(sql) == 'ALTER TABLE "t" ADD COLUMN "c" int NULL'
    long = short_sql("SELECT " + "x, " * 100)
    assert len(long) == 72 and long.endswith("…")


def test_markdown_tables_have_consistent_columns() -> None:
    text = render_markdown(report(nullable_migration(), index_migration()))
    rows = [line for line in text.splitlines() if line.startswith("|")]
    widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
    assert widths == {7}
