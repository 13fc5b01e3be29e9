"""The one risk function: static and traced verdicts both go through ``assess``.

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
from bot.models import Blocks, Lock, Risk, Verdict


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


def verdict(source: str, effect: Effect, *, rules: list[str], hazards: list[Risk]) -> Verdict:
    """A Verdict from an effect: risk is the worst of the locks' risk and the hazards'."""
    return Verdict(
        source=source,  # type: ignore[arg-type]
        locks=[
            Lock(relation=name, mode=mode, blocks=locks.blocks(mode))
            for name, mode in sorted(effect.locks.items())
        ],
        blocks=effect.blocks,
        rewrite=effect.rewrite,
        scan=effect.scan,
        risk=Risk.worst([assess(effect), *hazards]),
        rules=sorted(set(rules)),
    )
