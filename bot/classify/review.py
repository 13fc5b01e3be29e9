"""Reviewing a migration: a static verdict per statement, the traced one when the collector ran it,
the differences between the two, and the findings with their safer alternatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.classify import dialects
from bot.classify import locks as lk
from bot.classify import traced as tr
from bot.classify.findings import CHANGE_RULES, finding
from bot.classify.postgres import Analysis, Analyzer, Hit, Kind, short
from bot.classify.risk import Effect, assess, verdict
from bot.classify.rules import RULES
from bot.classify.schema import Schema
from bot.classify.sql import Parsed, split, words
from bot.classify.suggest import Context
from bot.errors import ReviewError
from bot.models import (
    CollectedMigration,
    CollectedStatement,
    Finding,
    MigrationReview,
    OperationInfo,
    Risk,
    StatementReview,
    Trace,
    Verdict,
)

_KIND_RANK: dict[Kind, int] = {
    "ddl": 4,
    "dml": 3,
    "query": 2,
    "session": 1,
    "transaction": 0,
    "other": 5,
}


@dataclass
class StaticResult:
    """The static reading of one reviewed statement (one or more parsed statements)."""

    kind: Kind
    effect: Effect
    hits: list[Hit]
    notes: list[str]
    lock_timeout: bool
    tables: list[str] = field(default_factory=list)
    no_transaction: bool = False
    aliases: dict[str, str] = field(default_factory=dict)


def _read(analyzer: Analyzer, parsed: Parsed, op: OperationInfo | None) -> StaticResult:
    if parsed.error:
        analysis = Analysis(recognised=False)
        analysis.hits.append(Hit("MR-UNRECOGNISED", {"statement": short(parsed.sql)}))
        analysis.notes.append(f"PostgreSQL's parser rejects it: {parsed.error}")
        effect = Effect(held=dict(analyzer.held))
        return StaticResult("other", effect, analysis.hits, analysis.notes, False)
    results = [analyzer.analyze(node, parsed.sql, operation=op) for node in parsed.nodes]
    first_held = results[0][1].held
    own: dict[str, str] = {}
    for _, effect in results:
        for name, mode in effect.locks.items():
            lk.merge(own, name, mode)
    combined = Effect(
        locks=own,
        held=first_held,
        rewrite=any(e.rewrite for _, e in results),
        scan=any(e.scan for _, e in results),
        dml=any(e.dml for _, e in results),
    )
    analyses = [a for a, _ in results]
    return StaticResult(
        kind=max((a.kind for a in analyses), key=_KIND_RANK.__getitem__),
        effect=combined,
        hits=[h for a in analyses for h in a.hits],
        notes=[n for a in analyses for n in a.notes],
        lock_timeout=analyzer.lock_timeout_set,
        tables=[t for a in analyses for t in a.tables],
        no_transaction=any(a.no_transaction for a in analyses),
        aliases=dict(analyzer.schema.aliases),
    )


def _rules_for(hits: list[Hit], effect: Effect) -> tuple[list[str], list[Risk]]:
    """Rule ids and hazard risks for a verdict: lock rules only while the locks hurt."""
    locked = assess(effect) > Risk.safe
    rules: list[str] = []
    hazards: list[Risk] = []
    for hit in hits:
        rule = RULES[hit.rule]
        if rule.family == "lock":
            if locked:
                rules.append(rule.id)
        else:
            rules.append(rule.id)
            hazards.append(rule.risk)
    if effect.slowed_by_held_lock:
        rules.append("MR-WORK-UNDER-HELD-LOCK")
    return rules, hazards


def _verdict(source: str, effect: Effect, hits: list[Hit], notes: list[str]) -> Verdict:
    rules, hazards = _rules_for(hits, effect)
    result = verdict(source, effect, rules=rules, hazards=hazards)
    result.notes = list(dict.fromkeys(notes))
    return result


def _review_statement(
    analyzer: Analyzer,
    parts: list[Parsed],
    *,
    index: int,
    sql: str,
    operation: OperationInfo | None,
    trace: Trace | None,
) -> _Reviewed:
    """Both verdicts of one statement, the final one, and where they disagree."""
    results = [_read(analyzer, part, operation) for part in parts]
    result = results[0] if len(results) == 1 else _merge(results)
    static = _verdict("static", result.effect, result.hits, result.notes)
    traced, final_effect, differences = None, result.effect, []
    lock_timeout = result.lock_timeout
    if trace is not None and trace.method != "static-only":
        traced_effect = tr.effect_of(
            trace, kind=result.kind, static=result.effect, aliases=result.aliases
        )
        notes = list(result.notes)
        if not tr.observed_scan(trace):
            notes.append(
                "watched from a second session: locks traced, the scan is the static reading"
            )
        traced = _verdict("traced", traced_effect, result.hits, notes)
        differences = tr.disagreements(result.effect, trace, traced_effect, aliases=result.aliases)
        final_effect = traced_effect
        lock_timeout = _timeout_set(trace.lock_timeout) or lock_timeout
    review = StatementReview(
        index=index,
        sql=sql,
        operation=operation.index if operation else None,
        static=static,
        traced=traced,
        final=traced or static,
        trace=trace,
        disagreements=differences,
    )
    return _Reviewed(review, result, final_effect, lock_timeout)


@dataclass
class _Reviewed:
    review: StatementReview
    result: StaticResult
    final_effect: Effect
    lock_timeout: bool


def classify_sql(
    sql: str,
    *,
    pg_version: int,
    schema: Schema | None = None,
    file: str | None = None,
    traces: list[CollectedStatement] | None = None,
    backend: str = "postgresql",
    server_version: str | None = None,
) -> list[StatementReview]:
    """Classify raw SQL statement by statement, as ``check-sql`` does.

    Statements run as psql runs a file: each commits on its own outside a BEGIN block, so a
    relation is new only to the statements of the transaction that created it. ``schema``
    describes what exists already; ``traces`` are ``bot.collect.trace_sql``'s statements for the
    same text, whose traced verdicts then win. A statement PostgreSQL cannot parse is an input
    error naming the file and line. MySQL and SQLite (``backend``, read for ``server_version``)
    are classified by ``bot.classify.dialects``.
    """
    if backend != "postgresql":
        return dialects.classify_sql(
            sql, backend=backend, server_version=server_version, file=file, traces=traces
        )
    parsed = split(sql)
    for item in parsed:
        if item.error:
            where = f"line {item.error_line}"
            raise ReviewError(
                f"the statement at line {item.line} does not parse: {item.error} ({where}): "
                f"{short(item.sql, 60)}",
                stage="classify",
                file=f"{file}:{item.error_line}" if file else None,
                hint="fix the SQL; check-sql reads PostgreSQL syntax, statements ending in ';'",
            )
    if traces is not None and [words(t.sql) for t in traces] != [words(p.sql) for p in parsed]:
        raise ReviewError(
            "the traced statements do not match the file's statements",
            stage="classify",
            file=file,
            hint="report this: the collector and the classifier split the SQL differently",
        )
    analyzer = Analyzer(pg_version=pg_version, schema=schema)
    return [
        _review_statement(
            analyzer,
            [item],
            index=index,
            sql=item.sql,
            operation=None,
            trace=traces[index].trace if traces is not None else None,
        ).review
        for index, item in enumerate(parsed)
    ]


def statement_lines(sql: str) -> list[int]:
    """The line each statement of ``sql`` starts on, in ``classify_sql``'s order."""
    return [item.line for item in split(sql)]


def review_migration(
    m: CollectedMigration,
    *,
    pg_version: int,
    schema: Schema | None = None,
    backend: str = "postgresql",
    server_version: str | None = None,
) -> MigrationReview:
    """Review one collected migration.

    ``schema`` carries what earlier migrations of the same review created or changed (see
    ``review_migrations``); its relations count as pre-existing here. MySQL and SQLite
    (``backend``, the collector's server version) are reviewed by ``bot.classify.dialects``.
    """
    if backend != "postgresql":
        return dialects.review_migration(
            m, backend=backend, server_version=server_version, schema=schema
        )
    schema = schema if schema is not None else Schema()
    schema.start_unit()
    analyzer = Analyzer(
        pg_version=pg_version, schema=schema, in_transaction=m.atomic, migration=True
    )
    operations = {op.index: op for op in m.operations}
    reviewed: list[_Reviewed] = []
    unrendered: list[_Reviewed] = []
    findings: list[Finding] = []
    held_before_op: dict[int, dict[str, str]] = {}
    executed_only = [op for op in m.operations if op.executed_only]
    for statement in m.statements:
        op = operations.get(statement.operation) if statement.operation is not None else None
        while executed_only and op is not None and executed_only[0].index < op.index:
            findings += _review_unrendered(
                analyzer, m, executed_only.pop(0), reviewed, unrendered, pg_version, findings
            )
        for pending in m.operations:
            if op is not None and pending.index < op.index:
                held_before_op.setdefault(pending.index, dict(analyzer.held))
        item = _review_statement(
            analyzer,
            split(statement.sql) or [Parsed(sql=statement.sql, line=1)],
            index=statement.index,
            sql=statement.sql,
            operation=op,
            trace=statement.trace,
        )
        item.review.operation = statement.operation
        ctx = Context(migration=m, operation=op, sql=statement.sql, pg_version=pg_version)
        held_by = _held_by(reviewed, item.final_effect, operations)
        findings += _statement_findings(
            item.review, item.result, item.final_effect, ctx, held_by=held_by
        )
        reviewed.append(item)
    for op in executed_only:
        findings += _review_unrendered(analyzer, m, op, reviewed, unrendered, pg_version, findings)
    for op in m.operations:
        held_before_op.setdefault(op.index, dict(analyzer.held))
    findings += _migration_findings(m, reviewed + unrendered, held_before_op, pg_version)
    statements = [r.review for r in reviewed]
    extra = [r.review for r in unrendered]
    risk = Risk.worst([s.final.risk for s in statements + extra] + [f.risk for f in findings])
    return MigrationReview(
        app_label=m.app_label,
        name=m.name,
        file=m.file,
        change=m.change,
        atomic=m.atomic,
        operations=m.operations,
        statements=statements,
        unrendered=extra,
        sqlmigrate=m.sqlmigrate,
        findings=findings,
        risk=risk,
        error=m.error,
    )


def _review_unrendered(
    analyzer: Analyzer,
    m: CollectedMigration,
    op: OperationInfo,
    rendered: list[_Reviewed],
    unrendered: list[_Reviewed],
    pg_version: int,
    findings: list[Finding],
) -> list[Finding]:
    """Review what applying ``op`` ran beyond what sqlmigrate prints, appending to ``unrendered``.

    These statements ran after the operation's printed ones, in the same transaction: they go
    through the same analyzer and risk function as any statement. Their findings count like any
    other (those already found on a printed statement once), plus one MR-UNRENDERED-SQL saying
    what a reader of sqlmigrate's output does not see.
    """
    found: list[Finding] = []
    known = {(f.rule, f.message) for f in findings}
    items: list[_Reviewed] = []
    operations = {o.index: o for o in m.operations}
    for trace in op.executed_only:
        sql = trace.executed_sql
        if not sql:
            continue
        parts = split(sql) or [Parsed(sql=sql, line=1)]
        item = _review_statement(
            analyzer,
            parts,
            index=len(unrendered),
            sql=sql,
            operation=op,
            trace=trace,
        )
        ctx = Context(migration=m, operation=op, sql=sql, pg_version=pg_version)
        held_by = _held_by(rendered + unrendered, item.final_effect, operations)
        for hit in _statement_findings(
            item.review, item.result, item.final_effect, ctx, held_by=held_by
        ):
            hit.statement = None  # an index into the printed statements, which it is not
            if (hit.rule, hit.message) not in known:
                known.add((hit.rule, hit.message))
                found.append(hit)
        unrendered.append(item)
        items.append(item)
    if items:
        found.append(_unrendered_finding(m, op, items, pg_version))
    return found


def _unrendered_finding(
    m: CollectedMigration, op: OperationInfo, items: list[_Reviewed], pg_version: int
) -> Finding:
    blocking: dict[str, str] = {}
    for item in items:
        for name, mode in item.final_effect.locks.items():
            if lk.blocks(mode) != "none":
                lk.merge(blocking, name, mode)
    if blocking:
        locks = "They take " + ", ".join(
            f"{lk.SQL_NAMES[mode]} on `{name}` (blocks "
            f"{'reads and writes' if lk.blocks(mode) == 'reads' else 'writes'})"
            for name, mode in sorted(blocking.items())
        )
    else:
        locks = "They take no lock that blocks traffic on an existing table"
    rule = RULES["MR-UNRENDERED-SQL"]
    values = {
        "operation": op.describe,
        "count": str(len(items)),
        "statements": "; ".join(f"`{_gist(i.review.sql)}`" for i in items),
        "locks": locks + ".",
    }
    ctx = Context(migration=m, operation=op, sql="", pg_version=pg_version)
    risk = Risk.worst([rule.risk, *(i.review.final.risk for i in items)])
    return finding(rule.id, values, risk=risk, ctx=ctx, statement=None)


def _gist(sql: str) -> str:
    """The statement that matters in Django's "SET CONSTRAINTS ... IMMEDIATE; ALTER TABLE ..."."""
    parts = split(sql)
    return short(parts[-1].sql if parts else sql, 100)


def review_migrations(
    migrations: list[CollectedMigration],
    *,
    pg_version: int,
    backend: str = "postgresql",
    server_version: str | None = None,
) -> list[MigrationReview]:
    """Review migrations in order, each seeing the schema the earlier ones built."""
    schema = Schema()
    return [
        review_migration(
            m,
            pg_version=pg_version,
            schema=schema,
            backend=backend,
            server_version=server_version,
        )
        for m in migrations
    ]


def _merge(results: list[StaticResult]) -> StaticResult:
    own: dict[str, str] = {}
    for r in results:
        for name, mode in r.effect.locks.items():
            lk.merge(own, name, mode)
    effect = Effect(
        locks=own,
        held=results[0].effect.held,
        rewrite=any(r.effect.rewrite for r in results),
        scan=any(r.effect.scan for r in results),
        dml=any(r.effect.dml for r in results),
    )
    return StaticResult(
        kind=max((r.kind for r in results), key=_KIND_RANK.__getitem__),
        effect=effect,
        hits=[h for r in results for h in r.hits],
        notes=[n for r in results for n in r.notes],
        lock_timeout=results[-1].lock_timeout,
        tables=[t for r in results for t in r.tables],
        no_transaction=any(r.no_transaction for r in results),
        aliases=results[-1].aliases,
    )


def _timeout_set(value: str | None) -> bool:
    return value not in (None, "", "0", "0s", "0ms")


def _held_values(effect: Effect) -> dict[str, str]:
    """Names for MR-WORK-UNDER-HELD-LOCK's message: the most blocking lock still held."""
    name, mode = max(effect.held.items(), key=lambda item: lk.level(item[1]))
    return {
        "held": f"the {lk.SQL_NAMES[mode]} lock",
        "held_table": name,
        "held_blocks": "reads and writes" if lk.blocks(mode) == "reads" else "writes",
    }


def _held_by(
    earlier: list[_Reviewed], effect: Effect, operations: dict[int, OperationInfo]
) -> str | None:
    """The operation whose statement took the most blocking lock ``effect`` runs under."""
    if not effect.held:
        return None
    name = _held_values(effect)["held_table"]
    for item in earlier:
        mode = item.final_effect.locks.get(name)
        op = operations.get(item.review.operation) if item.review.operation is not None else None
        if mode and lk.blocks(mode) != "none" and op is not None:
            return op.describe
    return None


def _statement_findings(
    review: StatementReview,
    result: StaticResult,
    effect: Effect,
    ctx: Context,
    *,
    held_by: str | None = None,
) -> list[Finding]:
    lock_risk = assess(effect)
    found: list[Finding] = []
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for rule_id in review.final.rules:
        rule = RULES[rule_id]
        hits = [h for h in result.hits if h.rule == rule_id] or [Hit(rule_id, {})]
        for hit in hits:
            values = dict(hit.values)
            if rule_id == "MR-WORK-UNDER-HELD-LOCK":
                values |= _held_values(effect)
                if held_by:
                    values["held_by"] = held_by
            key = (rule_id, tuple(sorted(values.items())))
            if key in seen:
                continue
            seen.add(key)
            risk = lock_risk if rule.family == "lock" else rule.risk
            found.append(finding(rule_id, values, risk=risk, ctx=ctx, statement=review.index))
    return found


def _migration_findings(
    m: CollectedMigration,
    reviewed: list[_Reviewed],
    held_before_op: dict[int, dict[str, str]],
    pg_version: int,
) -> list[Finding]:
    found: list[Finding] = []
    base = Context(migration=m, operation=None, sql="", pg_version=pg_version)
    if m.change in CHANGE_RULES:
        rule = CHANGE_RULES[m.change]
        values = {"file": m.file}
        found.append(finding(rule, values, risk=RULES[rule].risk, ctx=base, statement=None))
    has_ddl = any(r.result.kind == "ddl" for r in reviewed)
    for op in m.operations:
        ctx = Context(migration=m, operation=op, sql="", pg_version=pg_version)
        code = op.code or op.describe
        if op.kind == "RunPython":
            where = (
                " in the same transaction as the migration's schema changes"
                if (m.atomic and has_ddl)
                else ""
            )
            values = {"code": code, "where": where, "kind": op.kind}
            found.append(
                finding(
                    "MR-DATA-MIGRATION",
                    values,
                    risk=RULES["MR-DATA-MIGRATION"].risk,
                    ctx=ctx,
                    statement=None,
                )
            )
            effect = _run_python_effect(op.trace, held_before_op.get(op.index, {}))
            if effect.slowed_by_held_lock:
                found.append(
                    finding(
                        "MR-WORK-UNDER-HELD-LOCK",
                        _held_values(effect),
                        risk=assess(effect),
                        ctx=ctx,
                        statement=None,
                    )
                )
        if op.kind in ("RunPython", "RunSQL") and not op.reversible:
            values = {"kind": op.kind, "code": code}
            found.append(
                finding(
                    "MR-NO-REVERSE",
                    values,
                    risk=RULES["MR-NO-REVERSE"].risk,
                    ctx=ctx,
                    statement=None,
                )
            )
    if not m.atomic:
        transactional = [
            r for r in reviewed if r.result.kind == "ddl" and not r.result.no_transaction
        ]
        if transactional:
            found.append(
                finding(
                    "MR-NONATOMIC-DDL",
                    {"count": str(len(transactional))},
                    risk=RULES["MR-NONATOMIC-DDL"].risk,
                    ctx=base,
                    statement=None,
                )
            )
    blocking = sorted(
        {
            name
            for r in reviewed
            if not r.lock_timeout
            for name, mode in r.final_effect.locks.items()
            if lk.blocks(mode) != "none"
        }
    )
    if blocking:
        tables = ", ".join(f"`{name}`" for name in blocking)
        found.append(
            finding(
                "MR-NO-LOCK-TIMEOUT",
                {"tables": tables},
                risk=RULES["MR-NO-LOCK-TIMEOUT"].risk,
                ctx=base,
                statement=None,
            )
        )
    return found


def _run_python_effect(trace: Trace | None, held: dict[str, str]) -> Effect:
    """A RunPython operation changes rows; the trace says which locks it took and found held."""
    if trace is None or trace.method == "static-only":
        return Effect(held=held, dml=True)
    seen = tr.TracedLocks.of(trace)
    return Effect(
        locks=seen.strongest(seen.taken), held=seen.strongest(seen.held) or held, dml=True
    )
