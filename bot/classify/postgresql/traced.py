"""The traced verdict: what PostgreSQL reported while the statement ran on the scratch database.

The trace is turned into the same ``Effect`` the static side produces, so both go through the
same risk function, and the two can be compared relation by relation. Relations created in the
migration are ignored, as on the static side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.classify import locks as lk
from bot.classify.risk import Effect
from bot.models import Trace, TracedLock

_NOT_TABLES = frozenset({"index", "sequence", "toast", "composite type"})


def table_like(lock: TracedLock) -> bool:
    """Tables, partitioned tables, views, materialized views: what traffic reads and writes."""
    return lock.relkind.lower() not in _NOT_TABLES


@dataclass
class TracedLocks:
    """Modes per pre-existing table-like relation, as the trace saw them."""

    taken: dict[str, set[str]] = field(default_factory=dict)
    held: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, trace: Trace) -> TracedLocks:
        found = cls()
        for target, source in ((found.taken, trace.locks), (found.held, trace.held)):
            for lock in source:
                # A lock not granted yet is one the statement waits for: it needs it all the same.
                if lock.created or not table_like(lock):
                    continue
                target.setdefault(lock.relation, set()).add(lock.mode)
        return found

    def strongest(self, modes: dict[str, set[str]]) -> dict[str, str]:
        return {name: lk.strongest(found) or "" for name, found in modes.items()}


def observed_scan(trace: Trace) -> bool:
    """Whether the trace can tell a scan: only inside the statement's transaction, where the
    per-transaction scan counters and catalog changes are visible."""
    return trace.method == "transaction"


def effect_of(
    trace: Trace, *, kind: str, static: Effect, aliases: dict[str, str] | None = None
) -> Effect:
    """The traced Effect of a statement whose parsed kind is ``kind`` (ddl, dml, query...).

    Where the trace cannot see, the static reading stands: a mode the transaction already holds
    shows up nowhere as new when the statement asks for it again, and a second session sees the
    locks of a statement that cannot run in a transaction, but not what it reads.
    """
    seen = TracedLocks.of(trace)
    taken = seen.strongest(seen.taken)
    held = seen.strongest(seen.held)
    renamed = {new: old for new, old in (aliases or {}).items()}
    for name, mode in static.locks.items():
        traced_name = next(
            (n for n in (name, (aliases or {}).get(name), renamed.get(name)) if n in seen.held),
            None,
        )
        current = taken.get(traced_name) if traced_name else None
        if (
            traced_name
            and mode in seen.held[traced_name]
            and (current is None or lk.level(mode) > lk.level(current))
        ):
            taken[traced_name] = mode
    kinds = {lock.relation: lock.relkind for lock in [*trace.locks, *trace.held]}
    created = {lock.relation for lock in [*trace.locks, *trace.held] if lock.created}
    rewrite = any(
        name not in created and kinds.get(name, "table").lower() not in _NOT_TABLES
        for name in trace.rewritten
    )
    if observed_scan(trace):
        scan = rewrite or (kind == "ddl" and any(n not in created for n in trace.scanned))
    else:
        scan = rewrite or static.scan
    return Effect(
        locks=taken,
        held=held,
        rewrite=rewrite,
        scan=scan,
        dml=kind == "dml" and lk.ROW_EXCLUSIVE in taken.values(),
    )


def disagreements(
    static: Effect, trace: Trace, traced: Effect, *, aliases: dict[str, str] | None = None
) -> list[str]:
    """Where the static verdict and the trace differ on lock mode, rewrite or scan.

    A mode the statement asks for while the transaction already holds it appears nowhere in
    pg_locks as new, so a static mode matching a held one agrees when nothing stronger is new.
    ``aliases`` maps a relation renamed earlier in the migration to its name before: each side
    may use either name.
    """
    aliases = aliases or {}

    def canonical(modes: dict[str, set[str]]) -> dict[str, set[str]]:
        result: dict[str, set[str]] = {}
        for name, found in modes.items():
            result.setdefault(aliases.get(name, name), set()).update(found)
        return result

    seen = TracedLocks.of(trace)
    taken, held_modes = canonical(seen.taken), canonical(seen.held)
    expected_modes = canonical({name: {mode} for name, mode in static.locks.items()})
    found: list[str] = []
    for name in sorted(set(expected_modes) | set(taken)):
        expected = lk.strongest(expected_modes.get(name, set()))
        strongest_new = lk.strongest(taken.get(name, set()))
        held = held_modes.get(name, set())
        if expected == strongest_new:
            continue
        if expected in held and (
            strongest_new is None or lk.level(expected) > lk.level(strongest_new)
        ):
            continue
        found.append(
            f"lock on {name}: static {expected or 'none'}, traced {strongest_new or 'none'}"
        )
    if static.rewrite != traced.rewrite:
        found.append(f"rewrite: static {_yes(static.rewrite)}, traced {_yes(traced.rewrite)}")
    if observed_scan(trace) and static.scan != traced.scan:
        found.append(f"scan: static {_yes(static.scan)}, traced {_yes(traced.scan)}")
    return found


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
