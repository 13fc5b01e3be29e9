"""What every scratch database shares, whatever its server: a name no one else uses, created on
entry and dropped on every way out, an error in ``create`` included."""

from __future__ import annotations

import secrets
from typing import TypeVar

SCRATCH_PREFIX = "mr_scratch_"
S = TypeVar("S", bound="Scratch")


class Scratch:
    """Subclasses say how a database is named in a URL, created and dropped."""

    def __init__(self, url: str) -> None:
        self.server_url = url
        self.name = SCRATCH_PREFIX + secrets.token_hex(6)
        self.url = self.with_database(url, self.name)
        self.created = False

    def with_database(self, url: str, name: str) -> str:
        raise NotImplementedError

    def create(self) -> None:
        raise NotImplementedError

    def drop(self) -> None:
        raise NotImplementedError

    def __enter__(self: S) -> S:
        try:
            self.create()
        except BaseException:
            self.drop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.drop()
