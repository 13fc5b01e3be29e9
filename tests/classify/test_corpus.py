"""The static classifier against PostgreSQL itself: every corpus case traced on a real server.

The corpus (tests/corpus/) has two halves:

- ``django/``: a Django project whose migrations exercise the forms Django emits (every ALTER
  TABLE form, index and constraint forms, foreign keys, M2M, renames, RunSQL, RunPython...). All
  of them go through the real collector, which renders, applies and traces each one; they are
  reviewed as one history, so each migration's tables are pre-existing for the next ones.
- ``sql/``: raw SQL files. Statements before the first ``-- case:`` marker set up the tables;
  each case then runs (usually in a BEGIN ... ROLLBACK block) and is traced by ``trace_script``.

A case agrees when, for every statement, static and traced verdicts have the same strongest lock
per pre-existing table, the same rewrite and the same scan. Any disagreement fails the test; the
table printed (``pytest -s``, and in the failure message) shows every case.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.classify import backend_for, classify_sql
from bot.classify.sql import split
from bot.collect import collect, trace_script
from bot.models import ChangeKind, Finding, MigrationFile, StatementReview
from tests.reviews import review_in_order

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
CASE = re.compile(r"^-- case: (?P<name>[\w-]+)(?P<static>\s+\[static-only\])?\s*$", re.M)
MIN_CASES = 80
TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|START TRANSACTION|END)\b", re.I)


@dataclass
class Case:
    name: str
    source: str
    statements: list[StatementReview] = field(default_factory=list)
    may_be_untraced: bool = False
    """Marked ``[static-only]``: PostgreSQL may finish it before a second session sees it."""

    @property
    def traced(self) -> list[StatementReview]:
        return [s for s in self.statements if s.traced is not None]

    @property
    def disagreements(self) -> list[str]:
        return [f"#{s.index}: {d}" for s in self.statements for d in s.disagreements]


@dataclass
class Corpus:
    cases: list[Case]
    setup: list[Case]
    findings: list[Finding]
    seconds: float
    pg_version: int


def _django(pg_url: str) -> tuple[list[Case], list[Finding], int]:
    project = CORPUS / "django"
    files = [
        MigrationFile(path=str(path.relative_to(ROOT)), change=ChangeKind.added)
        for path in sorted((project / "library" / "migrations").glob("0*.py"))
    ]
    output = collect(project, files, python=None, settings=None, database_url=pg_url)
    assert not output.errors, output.errors
    assert [m.error for m in output.migrations if m.error] == []
    assert output.server_version_num
    pg_version = output.server_version_num // 10000
    reviews = review_in_order(output.migrations, backend_for("postgresql", pg_version=pg_version))
    cases = [Case(f"django {r.name}", "django", list(r.statements)) for r in reviews]
    return cases, [f for r in reviews for f in r.findings], pg_version


def _sql(path: Path, pg_url: str) -> tuple[list[Case], Case]:
    text = path.read_text(encoding="utf-8")
    traced = trace_script(text, database_url=pg_url, file=str(path))
    assert traced.server_version_num
    reviews = classify_sql(
        text,
        backend=backend_for("postgresql", pg_version=traced.server_version_num // 10000),
        file=str(path),
        traces=traced.statements,
    )
    markers = [
        (text.count("\n", 0, m.start()) + 1, m["name"], bool(m["static"]))
        for m in CASE.finditer(text)
    ]
    setup = Case(f"{path.stem} setup", "sql")
    cases = {
        name: Case(f"{path.stem} {name}", "sql", may_be_untraced=static)
        for _, name, static in markers
    }
    for line, review in zip([p.line for p in split(text)], reviews, strict=True):
        owner = [name for start, name, _ in markers if start <= line]
        (cases[owner[-1]] if owner else setup).statements.append(review)
    return list(cases.values()), setup


@pytest.fixture(scope="module")
def corpus(pg_url: str) -> Corpus:
    started = time.perf_counter()
    cases, findings, pg_version = _django(pg_url)
    setup: list[Case] = []
    for path in sorted((CORPUS / "sql").glob("*.sql")):
        file_cases, file_setup = _sql(path, pg_url)
        cases += file_cases
        setup.append(file_setup)
    return Corpus(cases, setup, findings, time.perf_counter() - started, pg_version)


def _locks(statement: StatementReview) -> str:
    verdict = statement.traced or statement.static
    return ", ".join(f"{lock.relation}:{lock.mode.removesuffix('Lock')}" for lock in verdict.locks)


def agreement_table(corpus: Corpus) -> str:
    rows = [f"{'case':<62} {'stmts':>5} {'traced':>6}  agree  {'risk':<8} locks (traced)"]
    for case in corpus.cases:
        worst = max((s.final.risk for s in case.statements), default=None)
        locks = "; ".join(filter(None, (_locks(s) for s in case.statements)))
        agree = "no" if case.disagreements else ("yes" if case.traced else "untraced")
        rows.append(
            f"{case.name:<62} {len(case.statements):>5} {len(case.traced):>6}  {agree:<6} "
            f"{worst.value if worst else '-':<8} {locks[:90]}"
        )
        rows += [f"    {d}" for d in case.disagreements]
    statements = [
        s
        for c in corpus.cases + corpus.setup
        for s in c.statements
        if not TRANSACTION_CONTROL.match(s.sql)
    ]
    traced = [s for s in statements if s.traced is not None]
    agreeing = [s for s in traced if not s.disagreements]
    cases_agreeing = [c for c in corpus.cases if c.traced and not c.disagreements]
    rows.append(
        f"PostgreSQL {corpus.pg_version}: {len(corpus.cases)} cases "
        f"({sum(c.source == 'django' for c in corpus.cases)} Django migrations, "
        f"{sum(c.source == 'sql' for c in corpus.cases)} raw SQL), "
        f"{len(cases_agreeing)} traced and agreeing; {len(statements)} statements "
        "(BEGIN/COMMIT/ROLLBACK left out), "
        f"{len(traced)} traced, {len(agreeing)} agreeing; {corpus.seconds:.1f} s"
    )
    return "\n".join(rows)


def test_static_classifier_agrees_with_the_trace(corpus: Corpus) -> None:
    table = agreement_table(corpus)
    print("\n" + table)
    assert len(corpus.cases) >= MIN_CASES, table
    assert {c.source for c in corpus.cases} == {"django", "sql"}
    wrong = [c.name for c in corpus.cases + corpus.setup if c.disagreements]
    assert not wrong, f"static and traced verdicts differ in {wrong}\n{table}"
    untraced = [c.name for c in corpus.cases if not c.traced and not c.may_be_untraced]
    assert not untraced, f"cases PostgreSQL never traced: {untraced}\n{table}"


def test_the_corpus_exercises_every_risk_and_the_main_rules(corpus: Corpus) -> None:
    """Agreement on a corpus of harmless statements would prove little."""
    finals = [s.final for c in corpus.cases for s in c.statements]
    assert {v.risk for v in finals} >= {"safe", "low", "medium", "high", "critical"}
    assert sum(v.rewrite for v in finals if v.source == "traced") >= 10
    assert sum(v.scan for v in finals if v.source == "traced") >= 30
    rules = {rule for v in finals for rule in v.rules}
    expected = {
        "MR-LOCK-INDEX", "MR-ADD-UNIQUE", "MR-ADD-CHECK", "MR-ADD-FOREIGN-KEY",
        "MR-SET-NOT-NULL", "MR-ADD-COLUMN-DEFAULT-VOLATILE", "MR-ADD-COLUMN-GENERATED",
        "MR-ALTER-COLUMN-TYPE", "MR-DROP-COLUMN", "MR-DROP-TABLE", "MR-RENAME-COLUMN",
        "MR-RENAME-TABLE", "MR-DROP-INDEX", "MR-DML-UNBOUNDED", "MR-WORK-UNDER-HELD-LOCK",
        "MR-UNRECOGNISED",
    }  # fmt: skip
    assert expected <= rules, expected - rules


def test_safer_code_of_every_corpus_finding_is_valid_python(corpus: Corpus) -> None:
    assert corpus.findings
    for finding in corpus.findings:
        assert finding.safer, finding.rule
        for code in re.findall(r"```python\n(.*?)```", finding.safer, re.S):
            compile(code, f"{finding.migration} {finding.rule}", "exec")
