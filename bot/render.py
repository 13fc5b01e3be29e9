"""The review comment, rendered from a Report by Jinja2 templates.

The decision sits above the fold (headline, verdict, one table row per migration); the evidence
(SQL, traced locks) is one click away in ``<details>``. Every template can be replaced by name
from ``--template-dir``: the bundled ones in ``bot/templates/`` are the fallback.

Python here only prepares values (sizes, durations); the wording and layout live in the
templates. Every value that can come from the pull request goes through one of the filters of
``bot.markdown`` (``text``, ``code``, ``fence``, ``cell``, ``prose``, ``html``), which make it
inert where it lands.
"""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import jinja2

from bot import markdown
from bot.classify import locks as lk
from bot.classify.postgresql.traced import table_like
from bot.consolidate import SIZED_KINDS, statement_impact
from bot.errors import ReviewError
from bot.estimate import format_bytes, format_range, format_rows, format_seconds
from bot.ignores import effective_risk
from bot.models import (
    Finding,
    Impact,
    MigrationReview,
    Report,
    Risk,
    StatementReview,
    TracedLock,
)

COMMENT_MARKER = "<!-- django-migration-review -->"
"""First line of every comment: how the sticky comment is found again to be updated."""

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAIN_TEMPLATE = "review.md.j2"

DEFAULT_MAX_CHARS = 65_536
"""The size budget of a review in Markdown: what a GitHub comment holds."""

# Fallbacks when the comment would exceed max_chars, from richest to barest.
DETAIL_LEVELS = ("full", "collapsed", "findings")
SHORTENED_NOTE = (
    "\n\n> [!NOTE]\n> This review was shortened to fit the comment size limit: the full review "
    "is in the job summary and the JSON report.\n"
)

RISK_EMOJI = {
    Risk.safe: "⚪",
    Risk.low: "🟢",
    Risk.medium: "🟡",
    Risk.high: "🔴",
    Risk.critical: "⛔",
}
KEPT_BLANK = "\x1f"
"""Stands for a blank line of a code block until the comment's blank lines are squeezed."""
BLOCKS_TEXT = {"none": "nothing", "writes": "writes", "reads": "reads + writes"}


def render_markdown(
    report: Report, *, template_dir: Path | None = None, max_chars: int | None = None
) -> str:
    """The review as Markdown, at most ``max_chars`` long when given.

    Too long, it drops the SQL first, then everything but the findings, and says so; as a last
    resort it is cut, keeping the marker, the headline and the note.
    """
    env = environment(template_dir)
    text = ""
    for level in DETAIL_LEVELS:
        text = _render(env, report, detail=level, shortened=level != "full")
        if max_chars is None or len(text) <= max_chars:
            return text
    assert max_chars is not None
    return text[: max(0, max_chars - len(SHORTENED_NOTE))].rstrip() + SHORTENED_NOTE


def environment(template_dir: Path | None = None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise ReviewError(
                f"template folder {template_dir} does not exist",
                stage="render",
                file=str(template_dir),
                hint=f"pass --template-dir a folder holding templates named like those in "
                f"{TEMPLATES} (only the ones you override)",
            )
        loaders.append(jinja2.FileSystemLoader(template_dir))
    loaders.append(jinja2.FileSystemLoader(TEMPLATES))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # Markdown, not HTML: values are escaped per context by the filters.
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        text=markdown.inline_text,
        code=markdown.code_span,
        fence=markdown.fence,
        code_block=code_block,
        cell=markdown.table_cell,
        prose=markdown.prose,
        html=markdown.html_text,
        emoji=lambda risk: RISK_EMOJI[Risk(risk)],
        blocks=lambda blocks: BLOCKS_TEXT[blocks],
        short_sql=short_sql,
        sha=lambda sha: sha[:7] if sha else "?",
        seconds=seconds_range,
        elapsed=elapsed,
        gist=lambda text: str(text).split(":")[0],
        count=format_rows,
        bytes=format_bytes,
    )
    env.globals.update(
        marker=COMMENT_MARKER,
        effective_risk=effective_risk,
        worst_statement=worst_statement,
        table_of=table_of,
        statement_notes=statement_notes,
        blocking_locks=blocking_locks,
        statement_numbers=statement_numbers,
        Risk=Risk,
    )
    return env


def _render(env: jinja2.Environment, report: Report, *, detail: str, shortened: bool) -> str:
    reset = {label for r in report.resets for label in r.deleted}
    shown = [m for m in report.migrations if m.label not in reset]
    try:
        template = env.get_template(MAIN_TEMPLATE)
        text = template.render(
            report=report,
            detail=detail,
            shortened=shortened,
            migrations=shown,
            ranked=sorted(shown, key=lambda m: effective_risk(m), reverse=True),
            counts=risk_counts(
                [effective_risk(m) for m in shown] + [r.finding.risk for r in report.resets]
            ),
            errors=report.errors + [m.error for m in report.migrations if m.error],
            failing=failing(report),
            resets=report.resets,
            notes=[f for f in report.notes if not f.ignored],
            sizes_unknown=sizes_unknown(report),
            server_version=server_version(report.server_version_num),
            server=server_label(report),
            version_warning=version_mismatch(report),
            acknowledged=[f for f in report.findings if f.ignored],
            not_reviewed=not_reviewed(report),
            verified=any(s.traced for m in report.migrations for s in m.statements),
        )
    except jinja2.TemplateNotFound as exc:
        raise ReviewError(
            f"template {exc.name} not found",
            stage="render",
            file=exc.name,
            hint="a template you override may only include templates that exist in "
            f"--template-dir or in {TEMPLATES}",
        ) from exc
    except jinja2.TemplateError as exc:
        where, line = _template_position(exc)
        raise ReviewError(
            f"template error: {exc}",
            stage="render",
            file=f"{where}:{line}" if line else where,
            hint="fix the template, or remove it from --template-dir to use the bundled one",
        ) from exc
    return re.sub(r"\n{3,}", "\n\n", text).strip().replace(KEPT_BLANK, "") + "\n"


def _template_position(exc: jinja2.TemplateError) -> tuple[str, int | None]:
    """The template file and line at fault: a syntax error carries them; an error while
    rendering (an undefined name) is found in the traceback, where Jinja maps frames back to
    the template's lines."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.filename or exc.name or MAIN_TEMPLATE, exc.lineno
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
    if frames:
        return frames[-1].filename, frames[-1].lineno
    return MAIN_TEMPLATE, None


def risk_counts(risks: list[Risk]) -> list[tuple[Risk, int]]:
    """How many migrations (or resets) at each effective risk, worst first, zero counts left
    out."""
    return [(r, risks.count(r)) for r in reversed(Risk) if r in risks]


def statement_numbers(finding: Finding) -> list[int]:
    """The statements a finding (or each member of a grouped one) is about, counted from 1."""
    members = finding.members or [finding]
    return list(dict.fromkeys(f.statement + 1 for f in members if f.statement is not None))


def failing(report: Report) -> list[str]:
    """What reaches fail-on: migrations, resets, review notes and findings at head, by name."""
    names = [m.label for m in report.migrations if effective_risk(m) >= report.fail_on]
    names += [
        f"{r.app_label} (reset)"
        for r in report.resets
        if not r.finding.ignored and r.finding.risk >= report.fail_on
    ]
    names += [
        f.rule
        for f in report.notes + report.project_findings
        if not f.ignored and f.risk >= report.fail_on
    ]
    return list(dict.fromkeys(names))


def sizes_unknown(report: Report) -> bool:
    """Whether the decision hangs on table sizes nobody gave: an open finding of medium risk or
    more is about table-sized work with no estimate."""
    if report.stats_source is not None:
        return False
    for migration in report.migrations:
        for finding in migration.findings:
            impact = statement_impact(migration, finding)
            if (
                not finding.ignored
                and finding.risk >= Risk.medium
                and impact is not None
                and impact.kind in SIZED_KINDS
                and impact.seconds_high is None
            ):
                return True
    return False


def not_reviewed(report: Report) -> list[str]:
    """Files in the diff that have no review: the collector could not get to them."""
    reviewed = {m.file for m in report.migrations}
    return [f.path for f in report.files if f.path not in reviewed]


def worst_statement(migration: MigrationReview) -> StatementReview | None:
    """The first of the riskiest statements, the one a reader should look at first: a printed
    one, unless what only ``migrate`` runs (``unrendered``) is riskier."""
    ranked = [(s.final.risk, 1, -s.index, s) for s in migration.statements]
    ranked += [(s.final.risk, 0, -s.index, s) for s in migration.unrendered]
    return max(ranked, key=lambda item: item[:3])[3] if ranked else None


def table_of(migration: MigrationReview) -> str | None:
    """The table the migration's worst statement works on."""
    statement = worst_statement(migration)
    impact: Impact | None = migration.impact or (statement.impact if statement else None)
    if impact and impact.table:
        return impact.table
    if statement and statement.final.locks:
        return statement.final.locks[0].relation
    return next((op.table for op in migration.operations if op.table), None)


def statement_notes(statement: StatementReview) -> list[str]:
    """What a statement locked and did, one short line each, for the comments under its SQL."""
    verdict = statement.final
    mark = "verified" if verdict.source == "traced" else "static only"
    notes = [
        f"{mark}: {lock.mode} on {lock.relation} (blocks {BLOCKS_TEXT[lock.blocks]})"
        for lock in verdict.locks
    ]
    if not verdict.locks:
        notes.append(f"{mark}: no lock on an existing table")
    trace = statement.trace
    if trace is not None:
        notes += [
            f"still holding {lock.mode} on {lock.relation}"
            + (
                f" (since statement {lock.since_statement + 1})"
                if lock.since_statement is not None
                else ""
            )
            for lock in blocking_locks(trace.held)
        ]
        if trace.note:
            notes.append(trace.note)
    effects = [name for name, on in (("rewrites", verdict.rewrite), ("scans", verdict.scan)) if on]
    if effects:
        notes.append(" and ".join(effects) + " the table")
    rules = f" · {', '.join(verdict.rules)}" if verdict.rules else ""
    notes.append(f"risk {verdict.risk}{rules}")
    return notes


def blocking_locks(locks: list[TracedLock]) -> list[TracedLock]:
    """The strongest lock per pre-existing table that blocks traffic; index and weaker locks
    on the same table say nothing more to a reader."""
    strongest: dict[str, TracedLock] = {}
    for lock in locks:
        if lock.created or not table_like(lock) or lock.mode not in lk.MODES:
            continue
        current = strongest.get(lock.relation)
        if current is None or lk.level(lock.mode) > lk.level(current.mode):
            strongest[lock.relation] = lock
    return [lock for lock in strongest.values() if lk.blocks(lock.mode) != "none"]


def server_label(report: Report) -> str | None:
    """The server the review ran on: "PostgreSQL 15.19", "MariaDB 10.11.19", "SQLite 3.40.1"."""
    if report.backend == "postgresql":
        version = server_version(report.server_version_num)
        return f"PostgreSQL {version}" if version else None
    if not report.server_version:
        return None
    number = re.match(r"[\d.]*", report.server_version).group(0) or report.server_version
    if report.backend == "sqlite":
        return f"SQLite {number}"
    return f"{'MariaDB' if 'mariadb' in report.server_version.lower() else 'MySQL'} {number}"


def version_mismatch(report: Report) -> str | None:
    """A warning when the SQL was traced on another PostgreSQL major than the rules assume."""
    if report.backend != "postgresql" or not report.server_version_num or not report.pg_version:
        return None
    traced = report.server_version_num // 10000
    if traced == report.pg_version:
        return None
    return (
        f"the SQL was rendered and traced on PostgreSQL {traced}, but the rules assume "
        f"PostgreSQL {report.pg_version} (pg-version): what a statement locks can differ "
        f"between majors. For an exact match, trace on a PostgreSQL {report.pg_version} server "
        f"(database-url, e.g. a `services: postgres:{report.pg_version}` container) or pass "
        f"--pg-bin the bin folder of a PostgreSQL {report.pg_version} installation."
    )


def server_version(num: int | None) -> str | None:
    """150019 -> "15.19" (PostgreSQL 10 and later number versions major * 10000 + minor)."""
    return f"{num // 10000}.{num % 10000}" if num else None


def code_block(text: str) -> str:
    """A whole Python file as a fenced block whose blank lines survive the squeeze of the
    comment's blank lines."""
    kept = "\n".join(line if line.strip() else KEPT_BLANK for line in text.strip("\n").splitlines())
    return markdown.fence(kept, "python").rstrip("\n")


def short_sql(sql: str, width: int = 72) -> str:
    """One line of SQL for a table cell: comments dropped, whitespace squeezed, cut at ``width``."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    flat = " ".join(" ".join(lines).split()).rstrip(";")
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def elapsed(seconds: float) -> str:
    """A measured time: "0.9 s" under 10 s, else as durations are written ("4 min")."""
    return f"{seconds:.1f} s" if seconds < 10 else format_seconds(seconds)


def seconds_range(impact: Impact | None) -> str:
    """The estimated duration, or "" when the estimate has none."""
    if impact is None or impact.seconds_high is None:
        return ""
    low = impact.seconds_low if impact.seconds_low is not None else impact.seconds_high
    return format_range(low, impact.seconds_high)
