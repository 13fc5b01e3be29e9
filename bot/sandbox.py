"""The collector's own temporary folder, and what a killed collector leaves in it.

The collector runs the pull request's code, which can kill its own process, and the runner can
kill it too (the out-of-memory killer, a cancelled job): then none of its cleanups run. So every
temporary path it makes lives in one folder the bot made for it (``TMPDIR``), and when it is gone,
however it went, the bot stops any PostgreSQL server still running from that folder (SIGQUIT,
what ``pg_ctl stop -m immediate`` sends, then SIGKILL) and removes the folder.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STOP_WAIT = 10.0


@contextmanager
def collector_tmp() -> Iterator[Path]:
    """A fresh folder for the collector's ``TMPDIR``, emptied of servers and removed on exit.

    Others may traverse it but not list it (0711): an embedded cluster run as the ``postgres``
    user (when the bot is root) must reach its data folder inside.
    """
    folder = Path(tempfile.mkdtemp(prefix="mr-collector-"))
    folder.chmod(0o711)
    try:
        yield folder
    finally:
        stop_servers(folder)
        shutil.rmtree(folder, ignore_errors=True)


def stop_servers(folder: Path) -> list[int]:
    """Stop the postmasters whose data folder is under ``folder``; the PIDs that were running."""
    stopped = []
    for pid_file in folder.glob("*/data/postmaster.pid"):
        pid = _postmaster(pid_file)
        if pid is None:
            continue
        stopped.append(pid)
        for sig, wait in ((signal.SIGQUIT, STOP_WAIT), (signal.SIGKILL, STOP_WAIT)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                break
            if _gone(pid, wait):
                break
    return stopped


def _postmaster(pid_file: Path) -> int | None:
    """The PID in ``pid_file`` if it is still that cluster's server, not a reused PID."""
    try:
        pid = int(pid_file.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    data = os.fsencode(pid_file.parent)
    return pid if data in cmdline else None


def _gone(pid: int, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if _zombie(pid):
            return True
        time.sleep(0.05)
    return False


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"
