"""Estimated impact: what each statement blocks, on which table, and for about how long.

"Blocks writes" means little without "for how long". The duration of a statement depends on the
kind of work the database does for it, which the classifier puts on the statement's final
verdict (``Verdict.work``):

    catalog           instant: only the system catalogs change
    scan              reads every row (VALIDATE CONSTRAINT, SET NOT NULL, ADD CHECK/FOREIGN KEY)
    rewrite           copies every row into a new file and rebuilds every index of the table
    index             builds one index (CREATE INDEX, ADD PRIMARY KEY/UNIQUE)
    index-concurrent  builds it without blocking writes, in two passes
    dml               changes rows one by one (UPDATE, DELETE, INSERT ... SELECT)
    unknown           procedural SQL the model cannot size (DO blocks, function calls)

Each kind has throughputs measured on real tables by ``bench/calibrate.py`` (rows/s and bytes/s,
in ``bot/data/throughput.json``). A duration is worked out twice, from the table's row count and
from its size: the two disagree for tables wider or narrower than the calibration table, and the
range spans both, widened by ``LOW_MARGIN``/``HIGH_MARGIN`` because production is not the machine
the figures came from. Without statistics the review says what the duration grows with instead.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from bot.classify.locks import SQL_NAMES, level
from bot.models import Impact, Lock, MigrationReview, StatementReview, TableStats, Work
from bot.stats import lookup

# Production runs on other hardware, under load, with colder caches than the calibration
# tables: the range reaches from half to twice what the calibrated figures give.
LOW_MARGIN = 0.5
HIGH_MARGIN = 2.0

BLOCK_RANK = {"none": 0, "writes": 1, "reads": 2}
KIND_RANK = ("catalog", "unknown", "dml", "index-concurrent", "scan", "index", "rewrite")
SIZED = frozenset(KIND_RANK) - {"catalog"}
HELD_GROWS = "the later statements of the migration: the lock is held until COMMIT"


@dataclass(frozen=True)
class Throughput:
    """What bench/calibrate.py measured for one kind of work."""

    rows_per_s: float | None = None
    bytes_per_s: float | None = None
    index_bytes_per_s: float | None = None
    seconds: float | None = None


@cache
def throughputs() -> dict[str, Throughput]:
    data = json.loads(files("bot").joinpath("data/throughput.json").read_text())
    return {kind: Throughput(**figures) for kind, figures in data["kinds"].items()}


@dataclass
class Sized:
    """A statement's table and the statistics its duration is worked out from."""

    table: str | None
    lock: Lock | None  # the strongest lock the statement takes on it
    stats: TableStats | None
    new_table: bool
    indexes: int | None  # indexes a traced rewrite rebuilt


def estimate_migration(
    m: MigrationReview,
    stats: dict[str, TableStats] | None,
    *,
    transactional_ddl: bool = True,
) -> None:
    """Fill each statement's impact and the migration's worst one (the longest blocking).

    Without ``transactional_ddl`` (MySQL) every DDL statement commits on its own: nothing is
    held until the migration ends.
    What ``migrate`` runs beyond sqlmigrate's output (``m.unrendered``) is sized alike and
    queues behind any lock the migration takes; its place among the statements is not known
    here, so it gets no held-until-commit note and adds nothing to the others' durations.
    """
    holds = m.atomic and transactional_ddl
    created: set[str] = set()
    held: dict[str, int] = {}  # table -> strongest lock level this transaction already holds
    planned = []
    for statement in m.statements:
        work = work_of(statement)
        created |= _created(statement, work)
        sized = _sized(statement, work, stats, created)
        queues = sized.lock is not None and level(sized.lock.mode) > held.get(sized.table or "", 0)
        statement.impact = _impact(statement, work, sized, queues=queues)
        planned.append((statement.impact, work, sized))
        if holds:
            for lock in statement.final.locks:
                name = _norm(lock.relation)
                held[name] = max(held.get(name, 0), level(lock.mode))
    extra: list[Impact] = []
    for statement in m.unrendered:
        work = work_of(statement)
        sized = _sized(statement, work, stats, created)
        queues = sized.lock is not None and level(sized.lock.mode) > held.get(sized.table or "", 0)
        statement.impact = _impact(statement, work, sized, queues=queues)
        statement.impact.summary = summary(statement.impact, work, sized, stats, None)
        extra.append(statement.impact)
    held = _hold_until_commit([impact for impact, _, _ in planned]) if holds else {}
    for n, (impact, work, sized) in enumerate(planned):
        impact.summary = summary(impact, work, sized, stats, held.get(n))
    impacts = [impact for impact, _, _ in planned] + extra
    m.impact = max(impacts, key=severity, default=None)


def work_of(statement: StatementReview) -> Work:
    """The kind of work, as the classifier put it on the final verdict (unknown on a verdict
    made without one)."""
    return statement.final.work or Work(kind="unknown")


def _norm(relation: str) -> str:
    return relation.replace('"', "").removeprefix("public.")


def _relkinds(statement: StatementReview) -> dict[str, str]:
    trace = statement.trace
    return {_norm(lk.relation): lk.relkind for lk in trace.locks + trace.held} if trace else {}


def _created(statement: StatementReview, work: Work) -> set[str]:
    """Tables this statement creates: they are empty for the rest of the migration."""
    traced = statement.trace.locks if statement.trace else []
    names = {_norm(lock.relation) for lock in traced if lock.created}
    return names | ({_norm(work.creates)} if work.creates else set())


def _sized(
    statement: StatementReview,
    work: Work,
    stats: dict[str, TableStats] | None,
    created: set[str],
) -> Sized:
    """The table the statement works on (the one its strongest lock is on), and its statistics.

    Locks on indexes and sequences don't count: CREATE INDEX takes ACCESS EXCLUSIVE on the index it
    creates, but what matters is the SHARE lock it holds on the table.
    """
    relkinds = _relkinds(statement)
    locks = [
        lock
        for lock in statement.final.locks
        if not any(w in relkinds.get(_norm(lock.relation), "table") for w in ("index", "sequence"))
    ]
    table = _norm(work.table) if work.table else None
    strongest = None
    if locks:
        strongest = max(locks, key=lambda lk: (level(lk.mode), _norm(lk.relation) == table))
        table = _norm(strongest.relation)
    read_from = work.source or table
    new_table = read_from is not None and _norm(read_from) in created
    found = lookup(stats, read_from) if stats and read_from and not new_table else None
    return Sized(table, strongest, found, new_table, _rebuilt_indexes(statement, relkinds))


def _rebuilt_indexes(statement: StatementReview, relkinds: dict[str, str]) -> int | None:
    """How many indexes a traced rewrite gave new files: each one is rebuilt."""
    trace = statement.trace
    if trace is None or not trace.rewritten:
        return None
    return sum(
        1
        for name in trace.rewritten
        if relkinds.get(_norm(name)) == "index" and "pg_toast" not in name
    )


def _impact(statement: StatementReview, work: Work, sized: Sized, *, queues: bool) -> Impact:
    size = sized.stats
    if sized.new_table:
        size = TableStats(table=sized.table or "", rows=0, table_bytes=0, index_bytes=0)
    if work.rows is not None:
        size = TableStats(table=sized.table or "", rows=work.rows)
    seconds = duration(work, size, sized.indexes) if size or work.kind == "catalog" else None
    heap = size.table_bytes if size else None
    return Impact(
        kind=work.kind,
        table=sized.table,
        blocks=statement.final.blocks,
        rows=size.rows if size else None,
        bytes=heap + (size.toast_bytes or 0) if size and heap is not None else None,
        seconds_low=seconds[0] if seconds else None,
        seconds_high=seconds[1] if seconds else None,
        summary="",
        grows_with=None if seconds else grows_with(work, sized.table, sized.indexes),
        lock_queue=lock_queue(statement, sized) if queues else None,
    )


def duration(
    work: Work, size: TableStats | None, indexes: int | None
) -> tuple[float, float] | None:
    """The duration range of ``work`` on a table of ``size``, or None when it can't be sized.

    Each kind's time is worked out from the row count and from the bytes the work goes through;
    the range spans both, widened by the margins. A rewrite also rebuilds every index: that part
    comes from the index-build figures, by index size and by rows times the number of indexes.
    """
    figures = throughputs()
    if work.kind == "unknown":
        return None
    if work.kind == "catalog" or (size and size.rows == 0 and size.table_bytes in (0, None)):
        return 0.0, (figures["catalog"].seconds or 0.0) * HIGH_MARGIN
    if size is None:
        return None
    f = figures[work.kind]
    heap, toast, index = size.table_bytes, size.toast_bytes or 0, size.index_bytes
    nbytes = heap
    if heap is not None and work.kind == "rewrite":
        nbytes = heap + toast
    elif heap is not None and work.kind == "dml":
        nbytes = heap + (index or 0)
    guesses = _guesses(size.rows, nbytes, f)
    if not guesses:
        return None
    low, high = min(guesses), max(guesses)
    if work.kind == "rewrite":
        build = figures["index"]
        rebuild = _guesses(
            size.rows * indexes if size.rows is not None and indexes is not None else None,
            None,
            build,
        )
        if index is not None and build.index_bytes_per_s:
            rebuild.append(index / build.index_bytes_per_s)
        if rebuild:
            low, high = low + min(rebuild), high + max(rebuild)
    if work.kind == "dml" and work.where:
        low = 0.0
    return low * LOW_MARGIN, high * HIGH_MARGIN


def _guesses(rows: int | None, nbytes: int | None, f: Throughput) -> list[float]:
    guesses = []
    if rows is not None and f.rows_per_s:
        guesses.append(rows / f.rows_per_s)
    if nbytes is not None and f.bytes_per_s:
        guesses.append(nbytes / f.bytes_per_s)
    return guesses


def grows_with(work: Work, table: str | None, indexes: int | None) -> str:
    """What the duration of ``work`` grows with, for reviews without table statistics."""
    on = table or "the table"
    match work.kind:
        case "rewrite":
            rebuilt = (
                f"its {indexes} index{'es' * (indexes != 1)}" if indexes else "all its indexes"
            )
            return f"table size: rewrites every row of {on} and rebuilds {rebuilt}"
        case "scan":
            return f"table size: reads every row of {on} to check it"
        case "index":
            return f"table size: reads every row of {on} and sorts it into the new index"
        case "index-concurrent":
            return (
                f"table size: reads {on} twice to build the index, after waiting for the "
                "transactions running when it starts"
            )
        case "dml" if work.source:
            return f"rows copied: {work.verb} every selected row of {work.source} into {on}"
        case "dml":
            rows = "the rows matching its WHERE clause" if work.where else "every row"
            return f"rows touched: {work.verb} {rows} of {on}, one by one"
        case _:
            return "what the statement runs: procedural SQL and function calls can't be sized"


def lock_queue(statement: StatementReview, sized: Sized) -> str | None:
    """The lock-queue warning (Markdown) for a statement whose lock stops ordinary queries.

    A lock request waits behind every transaction holding a conflicting lock, and every later
    request that conflicts with it waits behind it: even an instant ALTER TABLE stalls all traffic
    on the table for as long as the longest transaction already running on it.
    """
    table = sized.table
    if sized.lock is None or sized.lock.blocks == "none" or table is None:
        return None
    lock = f"{SQL_NAMES.get(sized.lock.mode, sized.lock.mode)} lock on {table}"
    if sized.lock.blocks == "reads":
        text = (
            f"Before it starts, the {lock} waits for every transaction that has touched "
            f"{table} to finish, as long as the longest-running one; meanwhile every new query "
            f"on {table}, reads included, queues behind it."
        )
    else:
        text = (
            f"Before it starts, the {lock} waits for every transaction that has written to "
            f"{table} to finish, as long as the longest-running one; meanwhile every new write "
            f"to {table} queues behind it (reads go on)."
        )
    timeout = _lock_timeout(statement)
    if timeout is not None and timeout not in {"0", "0ms", "0s"}:
        return (
            f"{text} lock_timeout: {timeout}: if the lock isn't granted within {timeout} the "
            "migration fails instead of stalling traffic; run it again."
        )
    setting = (
        "none (0): it can wait forever"
        if timeout
        else "unknown (not traced); PostgreSQL's default, 0, waits forever"
    )
    # The remedy is rule MR-NO-LOCK-TIMEOUT's, with the code for atomic and non-atomic migrations.
    return f"{text} lock_timeout: {setting} (see `MR-NO-LOCK-TIMEOUT`)."


def _lock_timeout(statement: StatementReview) -> str | None:
    trace = statement.trace
    if trace is None or trace.method == "static-only" or not trace.lock_timeout:
        return None
    return trace.lock_timeout.strip()


def _hold_until_commit(impacts: list[Impact]) -> dict[int, str]:
    """In an atomic migration a lock is held until COMMIT, through every later statement.

    Adds the durations of the later statements that take a while to each blocking statement's, and
    returns, by position, the note its summary ends with. One pass from the end, keeping the
    count and sums of the later statements, as their durations were before any was added to.
    """
    notes = {}
    later = 0
    low = high = 0.0
    unknown = False  # a later statement that takes a while, for a time nobody could estimate
    for n in range(len(impacts) - 1, -1, -1):
        impact = impacts[n]
        kind, own_low, own_high = impact.kind, impact.seconds_low, impact.seconds_high
        if impact.blocks != "none" and later:
            notes[n] = f"held until the migration commits, through {later} later statement" + (
                "s" * (later > 1)
            )
            if impact.seconds_low is not None and impact.seconds_high is not None:
                if unknown:
                    impact.seconds_low = impact.seconds_high = None
                    impact.grows_with = HELD_GROWS
                else:
                    impact.seconds_low += low
                    impact.seconds_high += high
        if kind != "catalog" and (own_high is None or own_high >= 1):
            later += 1
            low += own_low or 0.0
            high += own_high or 0.0
            unknown = unknown or own_low is None or own_high is None
    return notes


def severity(impact: Impact) -> tuple[bool, float, int, int]:
    """Longest blocking first; a size-dependent duration nobody could estimate counts as long."""
    unknown = math.inf if impact.kind in SIZED else 0.0
    duration = impact.seconds_high if impact.seconds_high is not None else unknown
    return (
        impact.blocks != "none",
        duration,
        BLOCK_RANK[impact.blocks],
        KIND_RANK.index(impact.kind),
    )


def summary(
    impact: Impact,
    work: Work,
    sized: Sized,
    stats: dict[str, TableStats] | None,
    held: str | None,
) -> str:
    """One line: what is blocked, on which table, how big it is, and for about how long."""
    table = impact.table
    if table is None:
        text = "takes no lock on a table"
    elif impact.blocks == "reads":
        text = f"blocks reads and writes on {table}"
    elif impact.blocks == "writes":
        text = f"blocks writes on {table}"
    elif work.kind == "dml" and work.verb != "inserts":
        text = f"locks the rows it {work.verb} in {table}"
    else:
        text = f"doesn't block reads or writes on {table}"
    if sized.new_table:
        text += f" ({work.source or table} is created in this migration: empty)"
    elif impact.rows is not None or impact.bytes is not None:
        size = format_size(impact, separator=" / ", about="~")
        text += f", copies {size} from {work.source}" if work.source else f", {size}"
    if impact.seconds_low is not None and impact.seconds_high is not None:
        text += ", " + format_range(impact.seconds_low, impact.seconds_high)
        if impact.kind == "catalog" and table:
            text += " (catalog change)"
    else:
        text += ", duration unknown: " + _why_unknown(impact, work, sized, stats)
    return f"{text}; {held}" if held else text


def _why_unknown(
    impact: Impact, work: Work, sized: Sized, stats: dict[str, TableStats] | None
) -> str:
    read_from = work.source or impact.table
    if impact.grows_with == HELD_GROWS:
        return "it includes later statements that can't be sized"
    if work.kind == "unknown":
        return "the model can't size procedural SQL"
    if not stats:
        return "no table statistics"
    if sized.stats is None:
        return f"{read_from} is not in the table statistics (a new table?)"
    return f"the statistics of {read_from} have no row count or size (never analyzed?)"


def format_range(low: float, high: float) -> str:
    """Like "~40 s to 2 min" (with an en dash), "~2 to 8 s", "up to ~5 min" or "< 1 s"."""
    if high < 1:
        return "< 1 s"
    top = format_seconds(high)
    if low < 1:
        return f"up to ~{top}"
    bottom = format_seconds(low)
    if bottom == top:
        return f"~{top}"
    value, unit = bottom.split(" ")
    if top.endswith(f" {unit}"):
        bottom = value
    return f"~{bottom}\N{EN DASH}{top}"


def format_seconds(seconds: float) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size * 1.5:
            return f"{_round(seconds / size)} {unit}"
    return f"{seconds:.0f} s"


def format_size(impact: Impact, *, separator: str, about: str = "") -> str:
    """The table's size as far as it is known: rows (``about`` marks the count an estimate), then
    bytes; "" when neither is."""
    parts = [f"{about}{format_rows(impact.rows)} rows"] if impact.rows is not None else []
    if impact.bytes is not None:
        parts.append(format_bytes(impact.bytes))
    return separator.join(parts)


def format_rows(rows: int) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if rows >= size:
            return f"{_round(rows / size)}{unit}"
    return str(rows)


def format_bytes(nbytes: int) -> str:
    for unit, size in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if nbytes >= size:
            return f"{_round(nbytes / size)} {unit}"
    return f"{nbytes} bytes"


def _round(value: float) -> str:
    """One decimal below 100 (12.4M rows, 3.1 GB, 350 MB), without a trailing .0."""
    text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return text.removesuffix(".0")
