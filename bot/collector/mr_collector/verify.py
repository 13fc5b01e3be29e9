"""Verify safer alternatives: same schema and state as the original, and no blocking scan.

For each alternative (the files that replace one migration), on the scratch server:

1. a database at the state before the migration (``side`` ``before``, in the original tree),
   from the review's base-state snapshot when there is a cache folder;
2. two copies of it (``CREATE DATABASE ... TEMPLATE``): the same starting state, twice;
3. the original migration applied in one, traced (``original``);
4. the alternative's files applied in the other, traced, from another tree of the repository
   with the files swapped in (``alternative``), after checking that the graph loads and
   ``makemigrations`` finds nothing to do;
5. schema and Django state compared. An alternative that edits a model on purpose is compared,
   after every migration has run, with what Django itself creates for the edited models
   (``expected``, a third copy), rather than with the original;
6. the alternative's traces read: no statement may scan or rewrite an existing table while a
   lock that blocks writes is held on it.

The sides of a tree run in one child process of this one, which loads the project once
(``side.Tree``): one for the original tree, serving every ``before`` and ``original``, and one
per alternative's tree. Such a tree is the repository's Python files copied and its other
files linked, except migration folders with no file swapped, linked whole: every import stays in
the tree and nothing written there reaches the repository. The databases are dropped on every
way out.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path, PurePosixPath
from typing import IO, Any

from . import cache, db, project, snapshot, verdicts
from .cluster import ScratchDatabase, connection_server_version, find_bin_dir, log
from .cluster import scratch as postgresql_scratch
from .errors import CollectorError

COLLECTOR = Path(__file__).resolve().parent.parent
UNCOPIED = {".git", "__pycache__", ".venv", "node_modules"}
WORKER_EXIT_SECONDS = 10.0
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
    django = project.import_settings(module, django_root)
    engine, vendor = project.default_engine(None)
    if vendor != "postgresql":
        output["results"] = [
            {"id": item["id"], "verified": False, "verification": "verified on PostgreSQL only"}
            for item in request["alternatives"]
        ]
        return
    items = request["alternatives"]
    kept = open_verdicts(request, repo_root, project_dir, module, engine, django.get_version())
    keys = [kept.key(items[: index + 1]) for index in range(len(items))] if kept else []
    known = []
    for key in keys:
        verdict = kept.get(key) if kept else None
        if verdict is None:
            break
        known.append(verdict)
    output["cached"] = len(known)
    if known:
        log(f"{len(known)} of {len(items)} verdicts on alternatives read from the cache folder")
    if kept and len(known) == len(items):
        output["results"] = known
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
            for index, item in enumerate(items):
                if index < len(known):
                    verifier.replay(item)
                    output["results"].append(known[index])
                    continue
                result, settled = verifier.verify(item)
                output["results"].append(result)
                if kept and settled:
                    kept.put(keys[index], result)
        finally:
            verifier.stop()


def open_verdicts(
    request: dict[str, Any],
    repo_root: Path,
    project_dir: Path,
    settings: str,
    engine: str,
    django_version: str,
) -> verdicts.Verdicts | None:
    """The verdicts kept in the cache folder for this repository and environment, if any."""
    cache_dir = request.get("cache_dir")
    if not cache_dir:
        return None
    try:
        major = server_major(request.get("database_url"), request.get("pg_bin"))
    except (CollectorError, OSError, ValueError, *db.errors()) as exc:
        log(f"verdicts on alternatives not kept: the server version is unknown ({exc})")
        return None
    version = (major * 10000, None)
    environment = cache.fingerprint(version, django_version, engine, settings, "default")
    store = cache.Store(Path(cache_dir), {"backend": "postgresql", **environment})
    return verdicts.Verdicts(
        Path(cache_dir),
        {
            "backend": "postgresql",
            **environment,
            "repository": verdicts.tree_digest(repo_root, UNCOPIED),
            "project": project_dir.relative_to(repo_root).as_posix(),
        },
        store,
        store.snapshots(),
    )


def server_major(url: str | None, bin_dir: str | None) -> int:
    """The major version of the server the sides run on, before it is started."""
    if url:
        connection = db.connect(url)
        try:
            return connection_server_version(connection) // 10000
        finally:
            connection.close()
    done = subprocess.run(
        [str(find_bin_dir(bin_dir) / "postgres"), "-V"], capture_output=True, text=True, check=False
    )
    found = re.search(r"\)\s*(\d+)", done.stdout)
    if done.returncode != 0 or found is None:
        raise CollectorError(f"postgres -V printed {done.stdout.strip()!r}")
    return int(found.group(1))


class Verifier:
    """Verifies alternatives in graph order on one database that moves forward: each original
    applied there leaves the starting state of the next (copies of it take the other sides)."""

    def __init__(self, request: dict[str, Any], repo_root: Path, project_dir: Path, url: str):
        self.request = request
        self.repo_root = repo_root
        self.project_dir = project_dir
        self.url = url
        self.base: ScratchDatabase | None = None
        self.workers: dict[Path, Worker] = {}
        # What makemigrations would write in the original tree: the same for every original.
        self.pending: list[str] | None = None

    def close(self) -> None:
        """Drop the database that moves forward (the next side starts from scratch)."""
        if self.base is not None:
            self.base.release()
            self.base = None

    def stop(self) -> None:
        for tree in list(self.workers):
            self.retire(tree)
        self.close()

    def base_url(self) -> str:
        if self.base is None:
            self.base = ScratchDatabase(self.url).__enter__()
        return self.base.url

    def verify(self, item: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The verdict on ``item``, and whether every side ran to its end (then it is kept)."""
        result: dict[str, Any] = {"id": item["id"], "verified": False, "verification": None}
        settled = True
        try:
            problems = self.check(item)
        except SideFailed as exc:
            problems, settled = [str(exc)], False
        if problems:
            result["verification"] = "; ".join(problems)
        else:
            result["verified"] = True
            result["verification"] = (
                "applied on the scratch database: same schema and state, no blocking scan"
            )
        return result, settled

    def replay(self, item: dict[str, Any]) -> None:
        """Leave the database that moves forward where verifying ``item`` left it, without
        verifying it (its verdict is known): its starting state, then its original."""
        migration = item["migration"].split(".", 1)
        with contextlib.suppress(SideFailed):  # as verifying it would: the next starts afresh
            before = self.before(migration)
            if not _full(item):
                self.original(before, migration, False)

    def check(self, item: dict[str, Any]) -> list[str]:
        migration = item["migration"].split(".", 1)
        edits = bool(item.get("edits_models"))
        full = _full(item)
        files = [f["path"] for f in item["files"] if _is_migration(f)]
        models = [f for f in item["files"] if not _is_migration(f)]
        with (
            self.tree(item["files"]) as swapped,
            self.tree(models) if edits else nullcontext(self.project_dir) as edited,
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
        worker = self.workers.get(tree)
        if worker is None:
            worker = self.workers[tree] = Worker()
        try:
            return worker.ask(request)
        except SideFailed:
            # What failed may have left the project half loaded: the next side starts afresh.
            self.retire(tree)
            raise

    def retire(self, tree: Path) -> None:
        worker = self.workers.pop(tree, None)
        if worker is not None:
            worker.close()

    @contextmanager
    def database(self, template: str | None = None) -> Iterator[str]:
        with ScratchDatabase(self.url, template=template) as database:
            yield database.url

    @contextmanager
    def tree(self, files: list[dict[str, Any]]) -> Iterator[Path]:
        """A tree of the repository with ``files`` written in; the project folder inside it."""
        folder = Path(tempfile.mkdtemp(prefix="mr-verify-"))
        project_dir = PurePosixPath(self.project_dir.relative_to(self.repo_root).as_posix())
        written = [PurePosixPath(item["path"]) for item in files]
        written += [PurePosixPath(item["replaces"]) for item in files if item.get("replaces")]
        root = folder / "repo"
        try:
            try:
                mirror(self.repo_root, root, {*written, project_dir / "manage.py"})
            except OSError as exc:
                raise self.uncopied(exc, root) from exc
            for item in files:
                if item.get("replaces") and item["replaces"] != item["path"]:
                    (root / item["replaces"]).unlink(missing_ok=True)
                target = root / item["path"]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)  # a copy of the original, never written through
                target.write_text(item["source"], encoding="utf-8")
            yield root / project_dir
        finally:
            self.retire(root / project_dir)
            shutil.rmtree(folder, ignore_errors=True)

    def uncopied(self, exc: OSError, root: Path) -> CollectorError:
        """The error of a tree that could not be made, naming the repository's file."""
        path = Path(exc.filename or "")
        for folder in (self.repo_root, root):
            if path.is_relative_to(folder):
                path = path.relative_to(folder)
        return CollectorError(
            f"the safer alternatives could not be verified: copying the repository failed "
            f"at {path}: {exc.strerror or exc}",
            file=str(path),
            hint="the verification runs in a copy of the repository: move files that cannot "
            "be copied or that change while the review runs (a cache or database folder) out "
            "of it, and run the review again; the findings above stand",
        )


def mirror(source: Path, target: Path, changed: set[PurePosixPath]) -> None:
    """``target`` as a tree of ``source`` for Django: folders are real and Python files copied,
    so that imports and ``__file__`` stay in ``target``; other files are linked, and so are
    migration folders holding none of the ``changed`` paths (relative to ``source``)."""
    ways = {parent for path in changed for parent in path.parents}
    target.mkdir()
    for folder, names, files in os.walk(source):
        here = Path(folder)
        relative = PurePosixPath(here.relative_to(source).as_posix())
        into = target / relative
        kept = []
        for name in names:
            if name in UNCOPIED:
                continue
            if name == "migrations" and relative / name not in ways:
                os.symlink(here / name, into / name)
            elif (here / name).is_symlink():
                os.symlink(os.readlink(here / name), into / name)
            else:
                (into / name).mkdir()
                kept.append(name)
        names[:] = kept
        for name in files:
            try:
                if name.endswith(".py"):
                    shutil.copy2(here / name, into / name, follow_symlinks=False)
                elif not name.endswith(".pyc"):
                    os.symlink(here / name, into / name)
            except OSError as exc:  # named, for the error (a socket has no content to copy)
                raise OSError(exc.errno, exc.strerror or str(exc), str(here / name)) from exc


class Worker:
    """A collector process serving the sides of one tree (``serve``), one request at a time."""

    def __init__(self) -> None:
        # Its stderr, read back when a side fails; closed by ``close``.
        self.log: IO[str] = tempfile.TemporaryFile(  # noqa: SIM115
            "w+", encoding="utf-8", errors="replace"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(COLLECTOR), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        action = request["action"]
        start = self.log.seek(0, os.SEEK_END)
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        except OSError:
            line = ""
        try:
            output = json.loads(line)
        except json.JSONDecodeError:
            self.log.seek(start)
            stderr = self.log.read()
            raise SideFailed(f"{action} side failed: {stderr.strip()[-500:]}") from None
        if output.get("errors"):
            error = output["errors"][0]
            where = f"{error['file']}: " if error.get("file") else ""
            raise SideFailed(f"applying the {action} failed: {where}{error['message']}")
        return output

    def close(self) -> None:
        """Stdin closed, the worker ends; one that does not is killed."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(WORKER_EXIT_SECONDS)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.log.close()


class SideFailed(Exception):
    pass


def _full(item: dict[str, Any]) -> bool:
    """Whether the whole graph is compared: the alternative edits models, or a later release's
    files follow the app's last migration."""
    return bool(item.get("edits_models")) or any(f.get("release", 1) > 1 for f in item["files"])


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
