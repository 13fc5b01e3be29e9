"""Where the collector is, on stderr: which migration of how many, which operation is running.

A migration that hangs (waiting for a lock, a RunPython that never ends) must be named when the
bot's time limit stops the collector, and a long review must show it is moving. The main thread
only records its position, which costs nothing per operation; a daemon thread prints it once a
second when it has changed, so ten thousand quick operations print a few lines, and one that
hangs is on the last line within a second. Each new migration is printed at once.

Lines start with ``mr-collector: progress: ``; the bot shows them and quotes the last one.
"""

from __future__ import annotations

import sys
import threading
from typing import TextIO

PREFIX = "mr-collector: progress: "
PERIOD = 1.0


class Progress:
    """The collector's position; silent until ``start``."""

    def __init__(self, period: float = PERIOD) -> None:
        self.period = period
        self.stream: TextIO | None = None
        self.migration = ""
        self.operation = ""
        self.shown = ""
        self.stopped = threading.Event()

    def start(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        threading.Thread(target=self._beat, name="mr-progress", daemon=True).start()

    @property
    def position(self) -> str:
        return f"{self.migration}, {self.operation}" if self.operation else self.migration

    def at_migration(self, text: str) -> None:
        """A new migration (or phase of one) starts: printed at once."""
        self.migration, self.operation = text, ""
        self._show()

    def at_operation(self, index: int, total: int, describe: str) -> None:
        self.operation = f"operation {index + 1} of {total}: {describe}"

    def close(self) -> None:
        self.stopped.set()

    def _beat(self) -> None:
        while not self.stopped.wait(self.period):
            self._show()

    def _show(self) -> None:
        position = self.position
        if self.stream is not None and position and position != self.shown:
            self.shown = position
            print(PREFIX + position, file=self.stream, flush=True)


PROGRESS = Progress()
"""The one position of this process, which the collector's stages update."""
