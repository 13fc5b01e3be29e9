"""Verdicts on safer alternatives, kept in the cache folder between runs of the same review.

Verifying an alternative applies it and its original on the scratch server; a pull request is
reviewed again at every push, mostly with the same alternatives. A verdict is kept under a key
made of everything that decides it:

- this format and the collector's own source (a new release verifies again);
- the environment: backend, server major version, Django version, settings module, ENGINE;
- the repository as the verification reads it (every file but the ones a tree leaves out:
  ``.git``, ``__pycache__``, ...): the originals, every migration they stand on, the models;
- the base-state snapshots the first starting state may be restored from;
- the alternative and every one verified before it in the same run: alternatives are verified
  in order on one database that moves forward, so each starts where the previous left it.

Only a verdict whose every side ran to its end is kept (a side that failed may have failed for a
passing reason). A cache makes a review faster, never different: a verdict read back is the one
written, and a folder that cannot be written only means verifying again next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .cache import CHUNK, Snapshot, Store
from .cluster import log

FORMAT = 1
FOLDER = "verdicts"
KEPT = 2000  # verdicts; the least recently used go first
COLLECTOR = Path(__file__).resolve().parent


def tree_digest(root: Path, skipped: set[str]) -> str:
    """The SHA-256 of every file under ``root`` (path and content), folders named in
    ``skipped`` and compiled Python left out; symbolic links by their target."""
    digest = hashlib.sha256()
    for folder, names, files in os.walk(root):
        names[:] = sorted(name for name in names if name not in skipped)
        here = Path(folder)
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = here / name
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            if path.is_symlink():
                digest.update(b"link\0" + os.readlink(path).encode() + b"\0")
                continue
            if not path.is_file():  # a socket or a pipe: never opened (a pipe would block)
                digest.update(b"special\0")
                continue
            try:
                with open(path, "rb") as handle:
                    for chunk in iter(lambda: handle.read(CHUNK), b""):
                        digest.update(chunk)
            except OSError as exc:  # unreadable here is unreadable to the sides too
                digest.update(f"unreadable: {exc}".encode())
            digest.update(b"\0")
        for name in names:
            if (here / name).is_symlink():
                link = (here / name).relative_to(root).as_posix()
                digest.update(f"{link}\0link\0{os.readlink(here / name)}\0".encode())
    return digest.hexdigest()


def collector_digest() -> str:
    """The collector's own source: what verifies."""
    digest = hashlib.sha256()
    for path in sorted(COLLECTOR.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Verdicts:
    """The verdicts of one environment and repository (``identity``) in ``<cache_dir>/verdicts``,
    verified from the base-state ``snapshots`` of ``store`` (their names are in the key)."""

    def __init__(
        self,
        cache_dir: Path,
        identity: Mapping[str, Any],
        store: Store,
        snapshots: list[Snapshot],
    ) -> None:
        self.root = Path(cache_dir) / FOLDER
        self.identity = {
            "format": FORMAT,
            "collector": collector_digest(),
            **identity,
            "snapshots": sorted(snapshot.folder.name for snapshot in snapshots),
        }
        self.store = store
        self.snapshots = snapshots
        self.read = False

    def key(self, alternatives: Iterable[Mapping[str, Any]]) -> str:
        """The key of the verdict on the last of ``alternatives``, verified after the others."""
        text = json.dumps({**self.identity, "alternatives": list(alternatives)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:40]

    def get(self, key: str) -> dict[str, Any] | None:
        path = self.root / f"{key}.json"
        try:
            found = json.loads(path.read_text())["result"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(found, dict) or not isinstance(found.get("verified"), bool):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        if not self.read:
            # The verdicts hold only while their snapshots are kept: they are used, as restored.
            self.read = True
            for snapshot in self.snapshots:
                self.store.touch(snapshot)
        return found

    def put(self, key: str, result: Mapping[str, Any]) -> None:
        """Keep ``result`` (written whole or not at all); a failure is only logged."""
        temp = self.root / f".tmp-{secrets.token_hex(6)}"
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            temp.write_text(json.dumps({"result": dict(result)}))
            os.replace(temp, self.root / f"{key}.json")
            self.prune()
        except OSError as exc:
            log(f"could not keep the verdict in {self.root}: {exc}")
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)

    def prune(self) -> None:
        entries = []
        for path in self.root.glob("*.json"):
            with contextlib.suppress(OSError):
                entries.append((path.stat().st_mtime, path))
        for _, path in sorted(entries)[: max(0, len(entries) - KEPT)]:
            with contextlib.suppress(OSError):
                path.unlink()
