"""Verify safer alternatives: same schema and state as the original, and no blocking scan.

For each alternative (the files that replace one migration), on the scratch server:

1. a database at the state before the migration (``side`` ``before``, in the original tree),
   from the review's base-state snapshot when there is a cache folder;
2. two copies of it (``CREATE DATABASE ... TEMPLATE``): the same starting state, twice;
3. the original migration applied in one, traced (``original``);
4. the alternative's files applied in the other, traced, from a copy of the repository with the
   files swapped in (``alternative``), after checking that the graph loads and
   ``makemigrations`` finds nothing to do;
5. schema and Django state compared. An alternative that edits a model on purpose is compared,
   after every migration has run, with what Django itself creates for the edited models
   (``expected``, a third copy), rather than with the original;
6. the alternative's traces read: no statement may scan or rewrite an existing table while a
   lock that blocks writes is held on it.

Every side is a child process of this one (the project is loaded once per tree); the databases
are dropped on every way out.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from . import cache, project, snapshot
from .cluster import ScratchDatabase
from .cluster import scratch as postgresql_scratch
from .errors import CollectorError

COLLECTOR = Path(__file__).resolve().parent.parent
UNCOPIED = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".venv", "node_modules")
# Locks that stop writes: work that grows with the table must not run under them.
BLOCKING = {
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
}
SHOWN_DIFFERENCES = 5


def run(request: dict[str, Any], output: dict[str, Any]) -> None:
    project_dir = Path(request["project_dir"]).resolve()
    repo_root = Path(request.get("repo_root") or project_dir).resolve()
    django_root = project.find_django_root(project_dir)
    module = project.settings_module(request.get("settings"), django_root)
    project.import_settings(module, django_root)
    _, vendor = project.default_engine(None)
    if vendor != "postgresql":
        output["results"] = [
            {"id": item["id"], "verified": False, "verification": "verified on PostgreSQL only"}
            for item in request["alternatives"]
        ]
        return
    seed = cache.cluster_seed(
        request.get("cache_dir"), request.get("database_url"), request.get("pg_bin")
    )
    with postgresql_scratch(request.get("database_url"), request.get("pg_bin"), seed) as (
        url,
        where,
    ):
        output["database"] = where
        verifier = Verifier(request, repo_root, project_dir, url)
        try:
            for item in request["alternatives"]:
                output["results"].append(verifier.verify(item))
        finally:
            verifier.close()


class Verifier:
    """Verifies alternatives in graph order on one database that moves forward: each original
    applied there leaves the starting state of the next (copies of it take the other sides)."""

    def __init__(self, request: dict[str, Any], repo_root: Path, project_dir: Path, url: str):
        self.request = request
        self.repo_root = repo_root
        self.project_dir = project_dir
        self.url = url
        self.base: ScratchDatabase | None = None
        # What makemigrations would write in the original tree: the same for every original.
        self.pending: list[str] | None = None

    def close(self) -> None:
        if self.base is not None:
            self.base.release()
            self.base = None

    def base_url(self) -> str:
        if self.base is None:
            self.base = ScratchDatabase(self.url).__enter__()
        return self.base.url

    def verify(self, item: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {"id": item["id"], "verified": False, "verification": None}
        try:
            problems = self.check(item)
        except SideFailed as exc:
            problems = [str(exc)]
        if problems:
            result["verification"] = "; ".join(problems)
        else:
            result["verified"] = True
            result["verification"] = (
                "applied on the scratch database: same schema and state, no blocking scan"
            )
        return result

    def check(self, item: dict[str, Any]) -> list[str]:
        migration = item["migration"].split(".", 1)
        edits = bool(item.get("edits_models"))
        # A later release's files follow the app's last migration: compare the whole graph.
        full = edits or any(f.get("release", 1) > 1 for f in item["files"])
        files = [f["path"] for f in item["files"] if _is_migration(f)]
        with (
            self.tree(item["files"]) as swapped,
            self.tree([f for f in item["files"] if not _is_migration(f)]) as edited,
        ):
            before = self.before(migration)
            with (
                self.database(before) as alternative,
                self.database(before) if edits else nullcontext("") as expected_db,
            ):
                theirs = self.original(before, migration, full)
                ours = self.side(
                    swapped, alternative, "alternative", migration, files=files, full=full
                )
                if edits:
                    expected = self.side(edited, expected_db, "expected", migration, full=True)
            problems = list(ours["problems"])
            new = [line for line in ours["pending"] if line not in theirs["pending"]]
            if new:
                problems.append("`makemigrations --check` would still write: " + "; ".join(new))
            if edits:
                problems += _compare("schema", expected["schema"], ours["schema"])
            else:
                problems += _compare("schema", theirs["schema"], ours["schema"])
                problems += _compare("state", theirs["state"], ours["state"])
            problems += [f"blocking: {line}" for line in blocking(ours["traces"])]
        return problems

    def before(self, migration: list[str]) -> str:
        """The database at the state before ``migration``: the one that moves forward, or a new
        one, from the base-state snapshot when it can (migrated from empty if that fails)."""
        fresh, url = self.base is None, self.base_url()
        cache_dir = self.request.get("cache_dir")
        if not (fresh and cache_dir):
            self.side(self.project_dir, url, "before", migration)
            return url
        try:
            self.side(
                self.project_dir,
                url,
                "before",
                migration,
                cache_dir=cache_dir,
                pg_bin=self.request.get("pg_bin"),
            )
        except SideFailed:
            self.close()
            url = self.base_url()
            self.side(self.project_dir, url, "before", migration)
        return url

    def original(self, before: str, migration: list[str], full: bool) -> dict[str, Any]:
        """The original applied where it leaves the next starting state, unless the whole graph
        must run (then on a copy); a failure there starts the next one from scratch."""
        known = {} if self.pending is None else {"pending": False}
        if full:
            with self.database(before) as original:
                output = self.side(
                    self.project_dir, original, "original", migration, full=True, **known
                )
        else:
            try:
                output = self.side(self.project_dir, before, "original", migration, **known)
            except SideFailed:
                self.close()
                raise
        if self.pending is None:
            self.pending = output["pending"]
        return {**output, "pending": self.pending}

    def side(self, tree: Path, database: str, action: str, migration: list[str], **extra: Any):
        request = {
            "mode": "side",
            "project_dir": str(tree),
            "settings": self.request.get("settings"),
            "url": database,
            "action": action,
            "migration": migration,
            **extra,
        }
        done = subprocess.run(
            [sys.executable, "-I", str(COLLECTOR)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
        )
        try:
            output = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise SideFailed(f"{action} side failed: {done.stderr.strip()[-500:]}") from None
        if done.returncode != 0 or output.get("errors"):
            error = (output.get("errors") or [{"message": "failed"}])[0]
            where = f"{error['file']}: " if error.get("file") else ""
            raise SideFailed(f"applying the {action} failed: {where}{error['message']}")
        return output

    @contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        with ScratchDatabase(self.url, template=template) as database:
            yield database.url

    @contextmanager
    def tree(self, files: list[dict[str, Any]]) -> Iterator[Path]:
        """A copy of the repository with ``files`` written in; the project folder inside it."""
        folder = Path(tempfile.mkdtemp(prefix="mr-verify-"))
        try:
            root = folder / "repo"
            self.copy(root)
            for item in files:
                if item.get("replaces") and item["replaces"] != item["path"]:
                    (root / item["replaces"]).unlink(missing_ok=True)
                target = root / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(item["source"], encoding="utf-8")
            yield root / self.project_dir.relative_to(self.repo_root)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def copy(self, root: Path) -> None:
        """The repository copied to ``root``; a file that cannot be copied is named."""
        try:
            shutil.copytree(self.repo_root, root, ignore=UNCOPIED, symlinks=True)
        except shutil.Error as exc:
            source, _, why = exc.args[0][0]
            path = Path(source)
            name = (
                str(path.relative_to(self.repo_root))
                if path.is_relative_to(self.repo_root)
                else source
            )
            raise CollectorError(
                f"the safer alternatives could not be verified: copying the repository failed "
                f"at {name}: {why}",
                file=name,
                hint="the verification runs in a copy of the repository: move files that cannot "
                "be copied or that change while the review runs (sockets, a cache or database "
                "folder) out of it, and run the review again; the findings above stand",
            ) from exc


class SideFailed(Exception):
    pass


def _is_migration(item: dict[str, Any]) -> bool:
    return "/migrations/" in "/" + item["path"]


def _compare(what: str, expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    found = snapshot.differences(expected, actual)
    if not found:
        return []
    more = f" (and {len(found) - SHOWN_DIFFERENCES} more)" if len(found) > SHOWN_DIFFERENCES else ""
    return [f"not the same {what}: " + "; ".join(found[:SHOWN_DIFFERENCES]) + more]


def blocking(traces: list[dict[str, Any]]) -> list[str]:
    """Statements that read or rewrote an existing table while holding a lock that stops writes."""
    found = []
    for item in traces:
        locks = [*item.get("locks", []), *item.get("held", [])]
        work = set(item.get("scanned", [])) | set(item.get("rewritten", []))
        for lock in locks:
            if lock["relation"] in work and lock["mode"] in BLOCKING and not lock["created"]:
                sql = " ".join((item.get("executed_sql") or "").split())
                found.append(f"{sql[:160]} reads {lock['relation']} under {lock['mode']}")
                break
    return found
