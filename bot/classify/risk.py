"""The one risk function, and the one rule that turns a reading into a verdict.

Every backend reads a statement into a ``View`` (its locks, what they block, the work, the rule
hits); ``verdict`` makes the report's ``Verdict`` of it, the same way for all: lock rules count
only while the locks hurt, other rules add their own risk. PostgreSQL's locks are rated by
``assess``; every backend's what-is-blocked-crossed-with-work goes through ``rate``.

A statement hurts production when it makes other sessions wait, and it hurts for as long as it
runs. So the risk is what its locks block (with, when it takes time, the locks still held from
earlier statements of the same transaction), crossed with whether it does work that grows with
the table: a rewrite, a full scan, or changing rows. Only relations that existed before the
migration count: a table created in the same migration has no other users yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.classify import locks
from bot.classify.rules import RULES
from bot.models import Blocks, Lock, Risk, Verdict, Work


@dataclass(frozen=True)
class Effect:
    """What a statement does to relations that existed before the migration."""

    locks: Mapping[str, str] = field(default_factory=dict)
    """relation -> strongest mode the statement takes."""
    held: Mapping[str, str] = field(default_factory=dict)
    """relation -> strongest mode earlier statements of the same transaction still hold."""
    rewrite: bool = False
    scan: bool = False
    """Reads every row (to validate, build an index, or because it rewrites)."""
    dml: bool = False
    """Changes rows: runs for as long as there are rows to change."""

    @property
    def blocks(self) -> Blocks:
        """What other sessions cannot do because of this statement.

        Locks held from earlier statements count when the statement takes time: they then stay
        held for that long too. An instant statement adds nothing to them.
        """
        held = list(self.held.values()) if self.work else []
        return locks.worst_blocks([*self.locks.values(), *held])

    @property
    def work(self) -> bool:
        return self.rewrite or self.scan or self.dml

    @property
    def slowed_by_held_lock(self) -> bool:
        """The statement works while an earlier, more blocking lock is still held."""
        own = locks.worst_blocks(self.locks.values())
        return self.work and _RANK[self.blocks] > _RANK[own]


_RANK: dict[Blocks, int] = {"none": 0, "writes": 1, "reads": 2}


def assess(effect: Effect) -> Risk:
    """The risk of the locks and work alone (rules about other hazards add their own)."""
    if not effect.locks and not (effect.held and effect.work):
        return Risk.safe
    return rate(effect.blocks, rewrite=effect.rewrite, work=effect.work)


def rate(blocked: Blocks, *, rewrite: bool, work: bool) -> Risk:
    """What is blocked crossed with the work done meanwhile: the scale of every backend.

    MySQL/MariaDB and SQLite verdicts, whose locks are not PostgreSQL's, are rated here too.
    """
    if blocked == "reads":
        if rewrite:
            return Risk.critical
        return Risk.high if work else Risk.low
    if blocked == "writes":
        return Risk.high if work else Risk.low
    return Risk.low if work else Risk.safe


@dataclass
class Hit:
    """A rule the statement breaks, with the names its message needs."""

    rule: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class View:
    """One view of a statement, static or traced: what its verdict is made of."""

    locks: list[Lock]
    """On relations that existed before the statements under review."""
    blocks: Blocks
    rewrite: bool
    scan: bool
    locks_risk: Risk
    """The risk of the locks and the work alone."""
    hits: list[Hit]
    notes: list[str]
    work: Work
    held: Mapping[str, str] = field(default_factory=dict)
    """relation -> mode earlier statements of the same transaction still hold."""


@dataclass
class Reading:
    """What a backend's analyzer reads in one statement: the static view, the traced one when
    the statement was traced, and what the migration-level rules need to know."""

    static: View
    traced: View | None = None
    disagreements: list[str] = field(default_factory=list)
    ddl: bool = False
    """Changes the schema (rather than rows, the session or the transaction)."""
    no_transaction: bool = False
    """CONCURRENTLY, VACUUM...: it cannot run in a transaction block."""
    lock_timeout: bool = False
    """A lock timeout is in effect: a blocked lock fails instead of queueing traffic."""

    @property
    def final(self) -> View:
        return self.traced or self.static


def verdict(source: str, view: View) -> Verdict:
    """The report's verdict: lock rules only while the locks hurt, other rules with their own
    risk, the risk the worst of both."""
    rules: list[str] = []
    hazards: list[Risk] = []
    for hit in view.hits:
        rule = RULES[hit.rule]
        if rule.family != "lock":
            rules.append(rule.id)
            hazards.append(rule.risk)
        elif view.locks_risk > Risk.safe:
            rules.append(rule.id)
    return Verdict(
        source=source,  # type: ignore[arg-type]
        locks=view.locks,
        blocks=view.blocks,
        rewrite=view.rewrite,
        scan=view.scan,
        risk=Risk.worst([view.locks_risk, *hazards]),
        rules=sorted(set(rules)),
        notes=list(dict.fromkeys(view.notes)),
        work=view.work,
    )


def effect_locks(effect: Effect) -> list[Lock]:
    """PostgreSQL's locks of an effect, as the report lists them."""
    return [
        Lock(relation=name, mode=mode, blocks=locks.blocks(mode))
        for name, mode in sorted(effect.locks.items())
    ]
