"""PostgreSQL's table-level lock modes: their names, what each one stops, which ones conflict.

The names are the ones ``pg_locks.mode`` shows, so a static verdict and a traced one compare
directly. The conflict table is the server's (``LockConflicts`` in lock.c, "Table-Level Lock
Modes" in the manual); the order of ``MODES`` is PostgreSQL's own numbering, weakest first.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.models import Blocks

ACCESS_SHARE = "AccessShareLock"
ROW_SHARE = "RowShareLock"
ROW_EXCLUSIVE = "RowExclusiveLock"
SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"
SHARE = "ShareLock"
SHARE_ROW_EXCLUSIVE = "ShareRowExclusiveLock"
EXCLUSIVE = "ExclusiveLock"
ACCESS_EXCLUSIVE = "AccessExclusiveLock"

MODES = (
    ACCESS_SHARE,
    ROW_SHARE,
    ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
    SHARE,
    SHARE_ROW_EXCLUSIVE,
    EXCLUSIVE,
    ACCESS_EXCLUSIVE,
)

CONFLICTS: dict[str, frozenset[str]] = {
    ACCESS_SHARE: frozenset({ACCESS_EXCLUSIVE}),
    ROW_SHARE: frozenset({EXCLUSIVE, ACCESS_EXCLUSIVE}),
    ROW_EXCLUSIVE: frozenset({SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    SHARE_UPDATE_EXCLUSIVE: frozenset(
        {SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}
    ),
    SHARE: frozenset(
        {ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}
    ),
    SHARE_ROW_EXCLUSIVE: frozenset(MODES[2:]),
    EXCLUSIVE: frozenset(MODES[1:]),
    ACCESS_EXCLUSIVE: frozenset(MODES),
}

SQL_NAMES = {
    ACCESS_SHARE: "ACCESS SHARE",
    ROW_SHARE: "ROW SHARE",
    ROW_EXCLUSIVE: "ROW EXCLUSIVE",
    SHARE_UPDATE_EXCLUSIVE: "SHARE UPDATE EXCLUSIVE",
    SHARE: "SHARE",
    SHARE_ROW_EXCLUSIVE: "SHARE ROW EXCLUSIVE",
    EXCLUSIVE: "EXCLUSIVE",
    ACCESS_EXCLUSIVE: "ACCESS EXCLUSIVE",
}
"""The spelling of ``LOCK TABLE ... IN <mode> MODE`` and of the manual."""

BY_SQL_NAME = {sql: mode for mode, sql in SQL_NAMES.items()}

_BLOCKS_RANK: dict[Blocks, int] = {"none": 0, "writes": 1, "reads": 2}


def level(mode: str) -> int:
    """PostgreSQL's number for the mode (1 = AccessShareLock ... 8 = AccessExclusiveLock); 0
    for another backend's lock."""
    return MODES.index(mode) + 1 if mode in MODES else 0


def conflicts(a: str, b: str) -> bool:
    return b in CONFLICTS[a]


def blocks(mode: str) -> Blocks:
    """What traffic waits for this lock: plain SELECTs take AccessShareLock, INSERT/UPDATE/DELETE
    take RowExclusiveLock."""
    if conflicts(mode, ACCESS_SHARE):
        return "reads"
    if conflicts(mode, ROW_EXCLUSIVE):
        return "writes"
    return "none"


def worst_blocks(modes: Iterable[str]) -> Blocks:
    return max((blocks(m) for m in modes), key=_BLOCKS_RANK.__getitem__, default="none")


def strongest(modes: Iterable[str]) -> str | None:
    return max(modes, key=level, default=None)


def merge(into: dict[str, str], relation: str, mode: str) -> None:
    """Record ``mode`` on ``relation``, keeping the strongest mode per relation."""
    current = into.get(relation)
    if current is None or level(mode) > level(current):
        into[relation] = mode


def describe_blocks(value: Blocks) -> str:
    return {
        "none": "neither reads nor writes",
        "writes": "writes (INSERT, UPDATE, DELETE); reads go on",
        "reads": "reads and writes",
    }[value]
