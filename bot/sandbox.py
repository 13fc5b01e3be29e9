"""Where the pull request's code runs: the user it runs as, the collector's temporary folder,
and what a killed collector leaves in it.

Inside the action's container the bot runs as root, next to the runner's Docker socket, and
its own process environment held the token when it started. The pull request's code (the
install command, the collector) therefore runs as the unprivileged user the image names in
``MIGRATION_REVIEW_USER``, without supplementary groups: it can read neither the socket
(root:docker, 0660) nor ``/proc/<bot>/environ`` (0400, root's), nor signal or trace the bot.

The collector runs the pull request's code, which can kill its own process, and the runner can
kill it too (the out-of-memory killer, a cancelled job): then none of its cleanups run. So every
temporary path it makes lives in one folder the bot made for it (``TMPDIR``), and when it is gone,
however it went, the bot stops any PostgreSQL server still running from that folder (SIGQUIT,
what ``pg_ctl stop -m immediate`` sends, then SIGKILL) and removes the folder. A scratch database
on a ``--database-url`` server is announced there before it is created and said dropped after
(``bot.collector.mr_collector.scratch``): ``announced_databases`` are the ones left.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bot.collector.mr_collector.scratch import ANNOUNCED, CREATING, DROPPED, NAME
from bot.errors import ReviewError

STOP_WAIT = 10.0
USER_VARIABLE = "MIGRATION_REVIEW_USER"


def untrusted_user() -> pwd.struct_passwd | None:
    """The user to run the pull request's code as: ``MIGRATION_REVIEW_USER`` when the bot is
    root (the action's image sets it), else None (run as the current user)."""
    name = os.environ.get(USER_VARIABLE)
    if not name or os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise ReviewError(
            f"{USER_VARIABLE} names user {name!r}, which does not exist",
            stage="collect",
            hint="create it (useradd --system NAME) or unset the variable",
        ) from None


def as_untrusted(home: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """``subprocess`` arguments and environment entries that run a command as the untrusted
    user (none when there is none), with ``home`` as its HOME."""
    user = untrusted_user()
    if user is None:
        return {}, {}
    ids = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    return ids, {"HOME": str(home), "USER": user.pw_name, "LOGNAME": user.pw_name}


def hand_over(folder: Path) -> None:
    """Give ``folder`` (made by the bot) to the untrusted user, who works in it."""
    user = untrusted_user()
    if user is None:
        return
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, user.pw_uid, user.pw_gid)


@contextmanager
def collector_tmp() -> Iterator[Path]:
    """A fresh folder for the collector's ``TMPDIR``, emptied of servers and removed on exit.

    Others may traverse it but not list it (0711): an embedded cluster run as the ``postgres``
    user (when the bot is root) must reach its data folder inside.
    """
    folder = Path(tempfile.mkdtemp(prefix="mr-collector-"))
    folder.chmod(0o711)
    hand_over(folder)
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


def announced_databases(folder: Path) -> list[str]:
    """The scratch databases the collectors that worked in ``folder`` announced and did not say
    they dropped, in the order they were announced."""
    try:
        lines = (folder / ANNOUNCED).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    left: dict[str, None] = {}
    for line in lines:
        event, _, name = line.partition(" ")
        if not NAME.fullmatch(name):
            continue
        if event == CREATING:
            left[name] = None
        elif event == DROPPED:
            left.pop(name, None)
    return list(left)
