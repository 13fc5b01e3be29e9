"""The bot's time limit, kept by the collector: checked before each operation runs, so that a
migration too big to finish in time ends with a message that says so, not with a bare timeout.

The bot stops the collector at its limit (``--timeout``). Reading the clock before each
operation costs nothing; stopping ``margin`` before the limit leaves the collector the time to
roll back, report and remove its scratch database.
"""

from __future__ import annotations

import time

HUGE = 500
"""Operations from which a migration's own size is what makes it slow (``message``)."""
SHORTEST = 30.0
"""Limits shorter than this leave no room for the margin: the bot alone keeps them."""


def margin(timeout: float) -> float:
    """What the collector keeps of the limit for after it stops: the rollback of what it was
    doing, the report, removing its scratch database or cluster (5 s measured after 10,000
    CreateModel stopped at the 700th) and the bot's own wait to read it."""
    return max(15.0, min(60.0, timeout / 10))


class OutOfTime(BaseException):
    """Raised before an operation past the deadline. Not an ``Exception``: the handlers that
    blame a migration for what it raises must not take this for the migration's failure."""


class Deadline:
    """When the collector stops (``check``); none until ``start``."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.limit: float | None = None

    def start(self, timeout: float | None) -> None:
        self.started = time.monotonic()
        self.limit = timeout if timeout is not None and timeout >= SHORTEST else None

    def left(self) -> float | None:
        """Seconds left before the collector must stop, if it has a limit."""
        if self.limit is None:
            return None
        return self.limit - margin(self.limit) - (time.monotonic() - self.started)

    def check(self) -> None:
        left = self.left()
        if left is not None and left <= 0:
            raise OutOfTime

    def message(self, position: str, operations: int, during: str) -> tuple[str, str]:
        """What to say, and what to do, when a migration of ``operations`` was stopped at
        ``position`` while ``during``."""
        elapsed = time.monotonic() - self.started
        message = (
            f"stopped while {during}, at {position}, {elapsed:.0f} s into the "
            f"review, to end before its {self.limit or 0:.0f} s time limit"
        )
        hint = "allow more time with --timeout (the action's timeout input)"
        if operations >= HUGE:
            message += (
                f": Django copies the whole project state before each of its {operations:,} "
                "operations (its own `sqlmigrate` and `migrate` do too), so the time a migration "
                "takes grows with the square of its operations"
            )
            hint = (
                "split it into migrations of a few hundred operations each, each depending on "
                "the one before (the same schema in the end, each one reviewed, and migrated, "
                "in a small part of the time), or " + hint
            )
        return message, hint


DEADLINE = Deadline()
"""The one time limit of this process."""
