"""What every scratch database shares, whatever its server: a name no one else uses, created on
entry and dropped on every way out, an error in ``create`` included.

A collector killed outright (SIGKILL) drops nothing, so each database is announced in the
collector's folder (``TMPDIR``, which the bot made for it) before it is created, and said
dropped after: the bot drops what is still announced (``leftover``).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import TypeVar

from .errors import CollectorError

SCRATCH_PREFIX = "mr_scratch_"
NAME = re.compile(SCRATCH_PREFIX + "[0-9a-f]{12}")
"""What a scratch database is named: the bot drops nothing else."""
ANNOUNCED = "mr-scratch-databases"
"""The file, in ``TMPDIR``, of ``creating NAME`` and ``dropped NAME`` lines."""
CREATING, DROPPED = "creating", "dropped"
S = TypeVar("S", bound="Scratch")


def announce(event: str, name: str) -> None:
    """Write ``event name`` where the bot reads it, when a bot gave this process its folder."""
    folder = os.environ.get("TMPDIR")
    if folder:
        with (Path(folder) / ANNOUNCED).open("a", encoding="utf-8") as log:
            log.write(f"{event} {name}\n")


class Scratch:
    """Subclasses say how a database is named in a URL, created and dropped."""

    def __init__(self, url: str) -> None:
        self.server_url = url
        self.name = SCRATCH_PREFIX + secrets.token_hex(6)
        self.url = self.with_database(url, self.name)
        self.created = False

    @classmethod
    def left(cls: type[S], url: str, name: str) -> S:
        """The scratch database ``name`` on the server of ``url``, which a killed collector
        created and left: ``drop`` drops it."""
        database = cls(url)
        database.name, database.url = name, database.with_database(url, name)
        database.created = True
        return database

    def with_database(self, url: str, name: str) -> str:
        raise NotImplementedError

    def create(self) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        """Drop it, and say so to the bot."""
        self.drop()
        announce(DROPPED, self.name)

    def __enter__(self: S) -> S:
        announce(CREATING, self.name)
        try:
            self.create()
        except BaseException:
            self.release()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def cannot_drop(self, address: str, statement: str, exc: Exception) -> CollectorError:
        """The database outlives the run: where it is, and the statement that drops it by hand."""
        return CollectorError(
            f"could not drop the scratch database {self.name} on {address}",
            hint=f"drop it by hand: {statement}",
            detail=str(exc),
        )
