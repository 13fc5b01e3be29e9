"""The whole review on real git repositories and a real PostgreSQL: diff -> collect -> classify ->
estimate -> ignores -> decision -> render, and the ``analyze`` command's exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo import FIXTURES, build_repository
from bot.models import ChangeKind, Report, Risk
from bot.pipeline import ReviewOptions, review
from bot.render import COMMENT_MARKER, render_markdown

HEAD_MIGRATIONS = {
    "shop.0002_order_paid_at",
    "shop.0003_order_status",
    "shop.0004_customer_phone",
    "shop.0005_order_status_index",
    "shop.0006_product_sku_index",
    "shop.0007_rename_product_title_name",
    "shop.0008_remove_customer_fax",
    "loans.0002_loan_customer",
    "loans.0003_backfill_loan_customer",
    "loans.0004_loan_due_date_index",
}
IDENTITY = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    repo = tmp_path_factory.mktemp("demo") / "project"
    base, head = build_repository(repo)
    return repo, base, head


@pytest.fixture(scope="module")
def embedded_report(demo: tuple[Path, str, str], pg_bin: Path) -> Report:
    repo, base, head = demo
    return review(ReviewOptions(repo=repo, base=base, head=head, python=sys.executable))


@pytest.fixture(scope="module")
def url_report(demo: tuple[Path, str, str], pg_url: str) -> Report:
    repo, base, head = demo
    return review(
        ReviewOptions(repo=repo, base=base, head=head, python=sys.executable, database_url=pg_url)
    )


def by_label(report: Report) -> dict:
    return {m.label: m for m in report.migrations}


@pytest.mark.parametrize("which", ["embedded_report", "url_report"])
def test_demo_review_covers_every_head_migration(which: str, request: pytest.FixtureRequest):
    report: Report = request.getfixturevalue(which)
    assert report.errors == [], report.errors
    migrations = by_label(report)
    assert set(migrations) == HEAD_MIGRATIONS
    # The app label comes from Django's loader, not the folder: lending/ holds app "loans".
    assert migrations["loans.0002_loan_customer"].file == "lending/migrations/0002_loan_customer.py"
    for label, m in migrations.items():
        assert m.error is None, label
        if label == "loans.0003_backfill_loan_customer":
            assert m.statements == [] and "RunPython" in {op.kind for op in m.operations}
            assert m.findings, "a data migration is flagged"
            continue
        assert m.statements, f"{label} has no SQL"
        assert all(s.final is not None for s in m.statements)
    assert report.decision == "fail"
    assert report.risk >= Risk.high
    assert report.server_version_num and report.server_version_num >= 100000


@pytest.mark.parametrize("which", ["embedded_report", "url_report"])
def test_create_index_blocks_writes_and_concurrently_does_not(
    which: str, request: pytest.FixtureRequest
) -> None:
    migrations = by_label(request.getfixturevalue(which))
    plain = migrations["shop.0005_order_status_index"]
    [index] = [s for s in plain.statements if s.sql.startswith("CREATE INDEX")]
    assert index.sql == 'CREATE INDEX "shop_order_status_idx" ON "shop_order" ("status");'
    assert index.final.blocks == "writes"
    assert index.final.source == "traced"
    assert {(lock.relation, lock.mode) for lock in index.final.locks} >= {
        ("shop_order", "ShareLock")
    }
    assert plain.risk >= Risk.high

    concurrent = migrations["shop.0006_product_sku_index"]
    assert concurrent.atomic is False
    [build] = concurrent.statements
    assert build.sql.startswith('CREATE INDEX CONCURRENTLY "shop_product_sku_idx"')
    assert build.final.blocks == "none"
    assert concurrent.risk < Risk.high


def test_embedded_and_url_runs_render_the_same_sql(
    embedded_report: Report, url_report: Report
) -> None:
    embedded, url = by_label(embedded_report), by_label(url_report)
    for label in HEAD_MIGRATIONS:
        assert [s.sql for s in embedded[label].statements] == [
            s.sql for s in url[label].statements
        ], label


def test_inline_ignore_is_applied_with_its_reason(embedded_report: Report) -> None:
    m = by_label(embedded_report)["loans.0004_loan_due_date_index"]
    ignored = [f for f in m.findings if f.ignored]
    assert ignored, [f.rule for f in m.findings]
    assert {f.ignore_reason for f in ignored} == {"the loans table holds about 40 rows"}
    assert {f.ignore_source for f in ignored} == {"inline"}


def test_findings_point_at_the_line_of_their_operation(
    demo: tuple[Path, str, str], embedded_report: Report
) -> None:
    repo, _, _ = demo
    m = by_label(embedded_report)["shop.0005_order_status_index"]
    [finding] = [f for f in m.findings if f.rule == "MR-LOCK-INDEX"]
    line = (repo / m.file).read_text().splitlines()[finding.line - 1]
    assert line.strip() == "migrations.AddIndex(", (finding.line, line)
    assert finding.operation == m.statements[finding.statement].operation
    # A finding about an operation with no SQL: the operation names its line, not a statement.
    data = by_label(embedded_report)["loans.0003_backfill_loan_customer"]
    [finding] = [f for f in data.findings if f.rule == "MR-DATA-MIGRATION"]
    assert finding.statement is None and finding.operation == 0
    line = (repo / data.file).read_text().splitlines()[finding.line - 1]
    assert line.strip().startswith("migrations.RunPython("), (finding.line, line)


def test_rendered_review_of_the_demo(embedded_report: Report) -> None:
    text = render_markdown(embedded_report)
    assert text.startswith(COMMENT_MARKER)
    assert text.splitlines()[1].startswith("## 🔴 Migration review:")
    for label in HEAD_MIGRATIONS:
        assert f"`{label}`" in text or f"<code>{label}</code>" in text, label
    assert 'CREATE INDEX "shop_order_status_idx" ON "shop_order" ("status");' in text
    assert "--   ↳ verified: ShareLock on shop_order (blocks writes)" in text
    assert 'CREATE INDEX CONCURRENTLY "shop_product_sku_idx"' in text
    assert "**❌ Fails the check:**" in text
    assert "✅ acknowledged: " in text and "the loans table holds about 40 rows" in text
    assert text.count("```sql") == len(HEAD_MIGRATIONS)
    assert "**Rollback rehearsal**" in text
    # sqlmigrate shows all the demo runs: nothing only migrate runs, no finding about it.
    assert [m.unrendered for m in embedded_report.migrations] == [[]] * len(HEAD_MIGRATIONS)
    assert "MR-UNRENDERED-SQL" not in text and "not in `sqlmigrate`" not in text


def test_real_review_degrades_to_fit(embedded_report: Report) -> None:
    full = render_markdown(embedded_report)
    assert render_markdown(embedded_report, max_chars=65_536) == full
    limit = len(full) // 2
    short = render_markdown(embedded_report, max_chars=limit)
    assert len(short) <= limit
    assert "```sql" not in short
    assert "the full review is in the job summary and the JSON report" in short
    assert short.splitlines()[1] == full.splitlines()[1]  # the headline survives
    for label in HEAD_MIGRATIONS:
        assert f"| `{label}` |" in short, label


# --- the analyze command on small repositories ------------------------------------------------


# A subset of the demo's head migrations matches neither side's models.py: the check at head
# (makemigrations --check) would rightly say a migration is missing.
PARTIAL_HEAD = (
    '\n[[ignore]]\nrule = "MR-MISSING-MIGRATION"\nmigration = "*"\n'
    'reason = "the test takes some of the demo\'s migrations, not its models"\n\n'
)


def small_repo(tmp_path: Path, *head_files: str, extra: dict[str, str] | None = None):
    """The demo's base project, and a head commit adding some of the demo's head files."""
    repo = tmp_path / "project"
    shutil.copytree(FIXTURES / "base", repo, ignore=shutil.ignore_patterns("__pycache__"))
    git(repo, "init", "--quiet", "--initial-branch=main")
    base = commit(repo, "base")
    git(repo, "checkout", "--quiet", "-b", "feature")
    for name in head_files:
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / "head" / name, target)
    extra = dict(extra or {})
    extra[".migration-review.toml"] = extra.get(".migration-review.toml", "") + PARTIAL_HEAD
    for name, text in extra.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    head = commit(repo, "head")
    return repo, base, head


def analyze(repo: Path, base: str, *args: str, tmp_path: Path) -> tuple[int, Report]:
    out = tmp_path / "report.json"
    command = ["analyze", "--repo", str(repo), "--base", base, "--format", "json"]
    code = main([*command, "--output", str(out), *args])
    return code, Report.model_validate_json(out.read_text())


def test_exit_0_when_nothing_reaches_fail_on(tmp_path: Path, pg_bin: Path) -> None:
    repo, base, _ = small_repo(tmp_path, "shop/migrations/0002_order_paid_at.py")
    status = git(repo, "status", "--porcelain")
    code, report = analyze(repo, base, tmp_path=tmp_path)
    assert (code, report.decision) == (0, "pass"), report.errors
    assert [m.label for m in report.migrations] == ["shop.0002_order_paid_at"]
    assert (
        report.migrations[0]
        .statements[0]
        .sql.startswith('ALTER TABLE "shop_order" ADD COLUMN "paid_at"')
    )
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "feature"


def test_exit_1_and_the_config_at_head_sets_fail_on(tmp_path: Path, pg_url: str) -> None:
    repo, base, _ = small_repo(
        tmp_path,
        "shop/migrations/0002_order_paid_at.py",
        "shop/migrations/0003_order_status.py",
        "shop/migrations/0004_customer_phone.py",
        "shop/migrations/0005_order_status_index.py",
    )
    code, report = analyze(repo, base, "--database-url", pg_url, tmp_path=tmp_path)
    assert (code, report.decision, report.fail_on) == (1, "fail", Risk.high), report.errors

    with (repo / ".migration-review.toml").open("a") as config:
        config.write(
            '[[ignore]]\nrule = "MR-LOCK-INDEX"\nmigration = "shop.0005_*"\n'
            'reason = "orders are few"\n\n'
            '[[ignore]]\nrule = "MR-NOT-NULL-WITHOUT-DB-DEFAULT"\nmigration = "shop.*"\n'
            'reason = "the shop is stopped while it deploys"\n'
        )
    commit(repo, "accept the index")
    code, report = analyze(repo, base, "--database-url", pg_url, tmp_path=tmp_path)
    index = by_label(report)["shop.0005_order_status_index"]
    assert [f.ignore_source for f in index.findings if f.rule == "MR-LOCK-INDEX"] == [
        ".migration-review.toml"
    ]
    assert (code, report.decision) == (0, "pass"), [f.rule for f in report.findings]


STATS = Path(__file__).parent / "stats"
INDEX_CHAIN = [
    f"shop/migrations/{name}.py"
    for name in (
        "0002_order_paid_at",
        "0003_order_status",
        "0004_customer_phone",
        "0005_order_status_index",
    )
]


def test_table_stats_named_in_the_config_at_head(tmp_path: Path, pg_bin: Path) -> None:
    repo, base, _ = small_repo(
        tmp_path,
        *INDEX_CHAIN,
        extra={
            "ops/table-stats.json": (STATS / "table-stats.json").read_text(),
            ".migration-review.toml": 'table-stats = "ops/table-stats.json"\n',
        },
    )
    code, report = analyze(repo, base, tmp_path=tmp_path)
    assert (code, report.errors) == (1, [])
    assert report.stats_source == "table-stats.json"
    index = by_label(report)["shop.0005_order_status_index"]
    assert index.impact is not None and index.impact.rows == 12_400_000
    assert index.impact.seconds_high and index.impact.seconds_high > 1
    text = render_markdown(report)
    row = next(line for line in text.splitlines() if line.startswith("| `shop.0005"))
    assert "M rows, 3.1 GB) | ~" in row
    assert "table sizes from `table-stats.json`" in text


def test_bad_table_stats_is_an_error_and_the_review_stays(tmp_path: Path, pg_bin: Path) -> None:
    repo, base, _ = small_repo(tmp_path, *INDEX_CHAIN)
    bad = STATS / "bad-syntax.json"
    code, report = analyze(repo, base, "--table-stats", str(bad), tmp_path=tmp_path)
    assert (code, report.decision) == (2, "error")
    [error] = report.errors
    assert (error.stage, error.file) == ("estimate", str(bad))
    assert len(report.migrations) == 4


BROKEN = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_order_paid_at")]
    operations = [migrations.RunSQL("UPDATE shop_nosuchtable SET x = 1", migrations.RunSQL.noop)]
"""


def test_a_migration_that_fails_is_an_error_not_a_pass(tmp_path: Path, pg_bin: Path) -> None:
    repo, base, _ = small_repo(
        tmp_path,
        "shop/migrations/0002_order_paid_at.py",
        extra={"shop/migrations/0003_broken.py": BROKEN},
    )
    code, report = analyze(repo, base, tmp_path=tmp_path)
    assert (code, report.decision) == (2, "error")
    migrations = by_label(report)
    assert migrations["shop.0002_order_paid_at"].error is None
    broken = migrations["shop.0003_broken"]
    assert broken.error is not None and "shop_nosuchtable" in broken.error.message
    text = render_markdown(report)
    assert "| `shop.0003_broken` | ⚠️ error |" in text
    assert "this is not a pass" in text


def test_exit_2_on_bad_settings_with_the_file_named(tmp_path: Path, pg_bin: Path) -> None:
    repo, base, _ = small_repo(tmp_path, "shop/migrations/0002_order_paid_at.py")
    code, report = analyze(repo, base, "--settings", "demo.nosuchsettings", tmp_path=tmp_path)
    assert (code, report.decision) == (2, "error")
    assert report.errors and "demo.nosuchsettings" in report.errors[0].message
    text = render_markdown(report)
    assert "this is not a pass" in text
    assert "Not reviewed: `shop/migrations/0002_order_paid_at.py`" in text


def test_exit_2_on_an_unknown_base(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    repo, _, _ = small_repo(tmp_path, "shop/migrations/0002_order_paid_at.py")
    code, report = analyze(repo, "origin/nope", tmp_path=tmp_path)
    assert (code, report.decision) == (2, "error")
    assert report.errors[0].stage == "diff"
    assert "origin/nope" in capsys.readouterr().err


def test_inline_ignore_without_reason_is_an_error(tmp_path: Path, pg_bin: Path) -> None:
    source = (FIXTURES / "head/lending/migrations/0004_loan_due_date_index.py").read_text()
    unreasoned = source.replace(" -- the loans table holds about 40 rows", "")
    assert unreasoned != source
    repo, base, _ = small_repo(
        tmp_path,
        "lending/migrations/0002_loan_customer.py",
        "lending/migrations/0003_backfill_loan_customer.py",
        *(
            f"shop/migrations/{n}.py"
            for n in (
                "0002_order_paid_at",
                "0003_order_status",
                "0004_customer_phone",
                "0005_order_status_index",
                "0006_product_sku_index",
                "0007_rename_product_title_name",
                "0008_remove_customer_fax",
            )
        ),
        extra={"lending/migrations/0004_loan_due_date_index.py": unreasoned},
    )
    code, report = analyze(repo, base, "--no-trace", tmp_path=tmp_path)
    assert code == 2
    [error] = report.errors
    assert error.file and error.file.startswith("lending/migrations/0004_loan_due_date_index.py:")
    assert "no reason" in error.message
    # The review of everything else is still there.
    assert "shop.0005_order_status_index" in by_label(report)


LOAN_NOTE = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("loans", "0001_initial")]
    operations = [migrations.AddField("loan", "note", models.TextField(null=True))]
"""


def test_deleted_renamed_and_modified_migrations_carry_findings(
    tmp_path: Path, pg_bin: Path
) -> None:
    repo, _, base = small_repo(
        tmp_path,
        "shop/migrations/0002_order_paid_at.py",
        extra={"lending/migrations/0002_loan_note.py": LOAN_NOTE},
    )
    (repo / "lending/migrations/0002_loan_note.py").unlink()
    git(repo, "mv", "shop/migrations/0002_order_paid_at.py", "shop/migrations/0002_paid_at.py")
    initial = repo / "lending/migrations/0001_initial.py"
    initial.write_text(initial.read_text().replace("max_length=200", "max_length=250"))
    commit(repo, "delete, rename and edit merged migrations")

    code, report = analyze(repo, base, tmp_path=tmp_path)
    assert report.errors == []
    changes = {m.label: (m.change, {f.rule for f in m.findings}) for m in report.migrations}
    assert changes["loans.0002_loan_note"] == (ChangeKind.deleted, {"MR-MIGRATION-DELETED"})
    assert changes["shop.0002_paid_at"][0] == ChangeKind.renamed
    assert "MR-MIGRATION-RENAMED" in changes["shop.0002_paid_at"][1]
    assert changes["loans.0001_initial"][0] == ChangeKind.modified
    assert "MR-MIGRATION-MODIFIED" in changes["loans.0001_initial"][1]
    # The renamed file still has its SQL reviewed; the deleted one has none and says so.
    assert by_label(report)["shop.0002_paid_at"].statements
    assert "No SQL: the file was deleted." in render_markdown(report)
    assert (code, report.decision) == (1, "fail")


def test_markdown_to_stdout(tmp_path: Path, pg_bin: Path, capsys: pytest.CaptureFixture) -> None:
    repo, base, _ = small_repo(tmp_path, "shop/migrations/0002_order_paid_at.py")
    code = main(["analyze", "--repo", str(repo), "--base", base])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith(COMMENT_MARKER)
    assert 'ADD COLUMN "paid_at"' in out


def test_a_broken_custom_template_does_not_lose_the_review(
    tmp_path: Path, pg_bin: Path, capsys: pytest.CaptureFixture
) -> None:
    repo, base, _ = small_repo(tmp_path, "shop/migrations/0002_order_paid_at.py")
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "footer.md.j2").write_text("{{ no_such_variable }}\n")
    out = tmp_path / "review.md"
    command = ["analyze", "--repo", str(repo), "--base", base, "--template-dir", str(templates)]
    code = main([*command, "--output", str(out)])
    assert code == 2
    text = out.read_text()
    assert text.startswith(COMMENT_MARKER)
    assert "`shop.0002_order_paid_at`" in text  # rendered with the bundled templates
    assert "no_such_variable" in text and "footer.md.j2" in text
    err = capsys.readouterr().err
    assert "migration-review: error, no verdict: the review is incomplete" in err
    assert "risk" not in err.splitlines()[0]


def test_json_report_is_the_schema(tmp_path: Path, embedded_report: Report) -> None:
    data = json.loads(embedded_report.model_dump_json())
    assert Report.model_validate(data) == embedded_report
