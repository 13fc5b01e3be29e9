"""Reasoned ignores: inline comments and the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import find_config, load_config
from bot.errors import ReviewError
from bot.ignores import (
    apply_ignores,
    apply_risk_overrides,
    config_ignores,
    config_risk_overrides,
    effective_risk,
    inline_ignores,
)
from bot.models import (
    ChangeKind,
    Finding,
    Lock,
    MigrationReview,
    Risk,
    StatementReview,
    Verdict,
)

INDEX_SQL = 'CREATE INDEX "loans_due_idx" ON "loans_loan" ("due_date")'


def migration(*findings: Finding, label: str = "loans.0004_due_index") -> MigrationReview:
    """A reviewed migration with one CREATE INDEX statement carrying the findings' rules."""
    app, name = label.split(".")
    verdict = Verdict(
        source="static",
        locks=[Lock(relation="loans_loan", mode="ShareLock", blocks="writes")],
        blocks="writes",
        risk=Risk.worst([f.risk for f in findings]),
        rules=[f.rule for f in findings],
    )
    return MigrationReview(
        app_label=app,
        name=name,
        file=f"lending/migrations/{name}.py",
        change=ChangeKind.added,
        atomic=True,
        statements=[StatementReview(index=0, sql=INDEX_SQL, static=verdict, final=verdict)],
        findings=list(findings),
        risk=verdict.risk,
    )


def finding(rule: str = "MR-LOCK-INDEX", risk: Risk = Risk.high) -> Finding:
    return Finding(rule=rule, risk=risk, title="t", message="m", statement=0)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_inline_ignore_with_reason_is_read(tmp_path: Path) -> None:
    file = write(
        tmp_path / "0004_due_index.py",
        "class Migration(migrations.Migration):\n"
        "    operations = [\n"
        "        # migration-review: ignore MR-LOCK-INDEX -- loans table holds 40 rows\n"
        "        AddIndex(),\n"
        "    ]\n",
    )
    [ignore] = inline_ignores(file, display="lending/migrations/0004_due_index.py")
    assert (ignore.rule, ignore.reason, ignore.source, ignore.operation) == (
        "MR-LOCK-INDEX",
        "loans table holds 40 rows",
        "inline",
        0,
    )


TWO_INDEXES = """\
class Migration(migrations.Migration):
    operations = [
        migrations.AddIndex(
            model_name="loan",  # migration-review: ignore MR-LOCK-INDEX -- 40 rows, {first}
            index=models.Index(fields=["due"], name="due_idx"),
        ),
        # migration-review: ignore MR-NO-LOCK-TIMEOUT -- stacked, {second}
        # migration-review: ignore MR-LOCK-INDEX -- members is small, {second}

        migrations.AddIndex(model_name="member", index=models.Index(fields=["name"], name="n")),
        # migration-review: ignore MR-LOCK-INDEX -- right above the third
        migrations.AddIndex(model_name="book", index=models.Index(fields=["isbn"], name="i")),
    ]
"""


def test_an_inline_ignore_covers_its_own_operation_only(tmp_path: Path) -> None:
    """On a line of an operation, or directly above it (through stacked directives)."""
    file = write(tmp_path / "m.py", TWO_INDEXES.format(first="first", second="second"))
    with pytest.raises(ReviewError) as caught:
        inline_ignores(file, display="m.py")
    # The blank line detaches the stacked pair from the second AddIndex.
    assert caught.value.error.file == "m.py:7"
    assert "not on or directly above an operation" in caught.value.error.message
    assert "ignore-file" in (caught.value.error.hint or "")
    text = TWO_INDEXES.format(first="first", second="second").replace("\n\n", "\n")
    ignores = inline_ignores(write(file, text), display="m.py")
    assert [(i.rule, i.operation) for i in ignores] == [
        ("MR-LOCK-INDEX", 0),
        ("MR-NO-LOCK-TIMEOUT", 1),
        ("MR-LOCK-INDEX", 1),
        ("MR-LOCK-INDEX", 2),
    ]
    m = migration(finding(), finding(), finding(), finding("MR-NONATOMIC-DDL"))
    for operation, f in enumerate(m.findings[:3]):
        f.operation = operation
    m.findings[1].rule = "MR-DROP-INDEX"  # no ignore names it on operation 1
    apply_ignores(m, ignores)
    assert [f.ignored for f in m.findings] == [True, False, True, False]
    assert m.findings[0].ignore_reason == "40 rows, first"


def test_ignore_file_covers_every_operation_and_the_migration(tmp_path: Path) -> None:
    file = write(
        tmp_path / "m.py",
        "# migration-review: ignore-file MR-LOCK-INDEX, MR-NONATOMIC-DDL -- a nightly job\n"
        + TWO_INDEXES.format(first="x", second="y").replace("\n\n", "\n"),
    )
    ignores = inline_ignores(file, display="m.py")
    assert [(i.rule, i.operation) for i in ignores][:2] == [
        ("MR-LOCK-INDEX", None),
        ("MR-NONATOMIC-DDL", None),
    ]
    m = migration(finding(), finding("MR-NONATOMIC-DDL"))
    m.findings[0].operation = 1
    apply_ignores(m, ignores[:2])
    assert all(f.ignored for f in m.findings)
    assert m.findings[0].ignore_reason == "a nightly job"


def test_inline_ignore_of_several_rules(tmp_path: Path) -> None:
    file = write(
        tmp_path / "m.py",
        "# migration-review: ignore-file MR-LOCK-INDEX,MR-NO-LOCK-TIMEOUT -- tiny table\n",
    )
    ignores = inline_ignores(file, display="m.py")
    assert [(i.rule, i.reason) for i in ignores] == [
        ("MR-LOCK-INDEX", "tiny table"),
        ("MR-NO-LOCK-TIMEOUT", "tiny table"),
    ]


def test_unknown_rule_is_an_error_not_an_ignore_of_nothing(tmp_path: Path) -> None:
    file = write(tmp_path / "m.py", "\n# migration-review: ignore-file MR-LOCK-INDX -- typo\n")
    with pytest.raises(ReviewError, match="unknown rule 'MR-LOCK-INDX'") as caught:
        inline_ignores(file, display="shop/migrations/0005_x.py")
    assert caught.value.error.file == "shop/migrations/0005_x.py:2"
    config = load_config(
        write(tmp_path / "c.toml", "[[ignore]]\nrule='MR-NOPE'\nmigration='a.b'\nreason='r'\n")
    )
    with pytest.raises(ReviewError, match="unknown rule 'MR-NOPE'") as caught:
        config_ignores(config, source=".migration-review.toml")
    assert caught.value.error.file == ".migration-review.toml"


def test_inline_ignore_without_reason_names_file_and_line(tmp_path: Path) -> None:
    file = write(tmp_path / "m.py", "x = 1\n\n# migration-review: ignore MR-LOCK-INDEX\n")
    with pytest.raises(ReviewError) as caught:
        inline_ignores(file, display="shop/migrations/0005_x.py")
    error = caught.value.error
    assert error.file == "shop/migrations/0005_x.py:3"
    assert "line 3" in error.message and "no reason" in error.message
    assert "-- " in (error.hint or "")


def test_inline_ignore_with_empty_reason_is_rejected(tmp_path: Path) -> None:
    file = write(tmp_path / "m.py", "# migration-review: ignore MR-LOCK-INDEX --   \n")
    with pytest.raises(ReviewError, match="no reason"):
        inline_ignores(file, display="m.py")


def test_misspelled_directive_is_an_error_not_silence(tmp_path: Path) -> None:
    file = write(tmp_path / "m.py", "# migration-review: ignroe MR-LOCK-INDEX -- small\n")
    with pytest.raises(ReviewError, match="cannot read the directive"):
        inline_ignores(file, display="m.py")


def test_directive_inside_a_string_is_not_an_ignore(tmp_path: Path) -> None:
    file = write(
        tmp_path / "m.py",
        'RunSQL("SELECT 1 -- # migration-review: ignore MR-LOCK-INDEX -- in a string")\n',
    )
    assert inline_ignores(file, display="m.py") == []


def test_apply_marks_only_the_named_rule_and_keeps_it_in_the_report(tmp_path: Path) -> None:
    m = migration(finding("MR-LOCK-INDEX", Risk.high), finding("MR-OTHER", Risk.low))
    config = load_config(
        write(
            tmp_path / "c.toml",
            "[[ignore]]\nrule='MR-LOCK-INDEX'\nmigration='loans.*'\nreason='40 rows'\n",
        )
    )
    apply_ignores(m, config_ignores(config, source=".migration-review.toml"))
    index, other = m.findings
    assert index.ignored and index.ignore_reason == "40 rows"
    assert index.ignore_source == ".migration-review.toml"
    assert not other.ignored
    assert effective_risk(m) == Risk.low
    assert m.risk == Risk.high  # the real risk is still reported


def test_config_ignore_for_another_migration_does_not_apply(tmp_path: Path) -> None:
    m = migration(finding())
    config = load_config(
        write(
            tmp_path / "c.toml",
            "[[ignore]]\nrule='MR-LOCK-INDEX'\nmigration='shop.*'\nreason='small'\n",
        )
    )
    apply_ignores(m, config_ignores(config, source="cfg"))
    assert not m.findings[0].ignored
    assert effective_risk(m) == Risk.high


def test_a_statement_risk_no_finding_explains_still_counts(tmp_path: Path) -> None:
    """Ignoring one rule cannot silence a risky statement whose other rule has no finding."""
    m = migration(finding("MR-LOCK-INDEX", Risk.low))
    m.statements[0].final = m.statements[0].final.model_copy(
        update={"risk": Risk.high, "rules": ["MR-LOCK-INDEX", "MR-UNEXPLAINED"]}
    )
    file = write(tmp_path / "m.py", "# migration-review: ignore-file MR-LOCK-INDEX -- tiny\n")
    apply_ignores(m, inline_ignores(file, display="m.py"))
    assert m.findings[0].ignored
    assert effective_risk(m) == Risk.high


def test_config_file_is_found_and_read(tmp_path: Path) -> None:
    write(
        tmp_path / ".migration-review.toml",
        'fail-on = "medium"\npg-version = 13\ntable-stats = "stats.json"\n'
        "[[ignore]]\nrule = 'MR-LOCK-INDEX'\nmigration = 'loans.0004_due_index'\n"
        "reason = 'loans holds 40 rows'\n",
    )
    path = find_config(tmp_path)
    assert path == tmp_path / ".migration-review.toml"
    config = load_config(path)
    assert config.fail_on == Risk.medium
    assert config.pg_version == 13
    assert config.table_stats == str(tmp_path / "stats.json")
    assert config.ignore[0].reason == "loans holds 40 rows"


def test_pyproject_section_is_used_when_there_is_no_own_file(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.migration-review]\nfail-on = "critical"\n')
    path = find_config(tmp_path)
    assert path == tmp_path / "pyproject.toml"
    assert load_config(path).fail_on == Risk.critical


def test_no_config_at_all(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    assert find_config(tmp_path) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[ignore]]\nrule = 'MR-X'\nmigration = 'a.b'\n", "ignore.0.reason"),
        ("[[ignore]]\nrule = 'MR-X'\nmigration = 'a.b'\nreason = '  '\n", "empty reason"),
        ("fail_on = 'high'\n", "fail_on"),
        ("fail-on = 'severe'\n", "fail-on"),
        ("fail-on = \n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / ".migration-review.toml", text)
    with pytest.raises(ReviewError) as caught:
        load_config(path, display=".migration-review.toml")
    assert caught.value.error.file == ".migration-review.toml"
    assert expected in caught.value.error.message


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_rules_table_sets_a_rules_risk(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path / "c.toml", '[rules]\nMR-LOCK-INDEX = "low"\nMR-DROP-INDEX = "high"\n')
    )
    overrides = config_risk_overrides(config, source=".migration-review.toml")
    assert overrides == {"MR-LOCK-INDEX": Risk.low, "MR-DROP-INDEX": Risk.high}
    lowered = migration(finding("MR-LOCK-INDEX", Risk.high))
    apply_risk_overrides(lowered, overrides, source=".migration-review.toml")
    [f] = lowered.findings
    assert (f.risk, f.risk_default, f.risk_source) == (
        Risk.low,
        Risk.high,
        ".migration-review.toml",
    )
    assert effective_risk(lowered) == Risk.low and lowered.risk == Risk.high
    raised = migration(finding("MR-DROP-INDEX", Risk.low))
    apply_risk_overrides(raised, overrides, source="c")
    assert effective_risk(raised) == Risk.high
    untouched = migration(finding("MR-DML", Risk.low))
    apply_risk_overrides(untouched, overrides, source="c")
    assert untouched.findings[0].risk_default is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[rules]\nMR-LOCK-INDX = "low"\n', "unknown rule 'MR-LOCK-INDX' in [rules]"),
        ('[rules]\nMR-LOCK-INDEX = "mediun"\n', "rules.MR-LOCK-INDEX"),
    ],
)
def test_a_bad_rules_table_names_the_file_and_the_rule(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path / ".migration-review.toml", text)
    with pytest.raises(ReviewError) as caught:
        config_risk_overrides(load_config(path), source=str(path))
    assert expected in caught.value.error.message
    assert caught.value.error.file == str(path)
