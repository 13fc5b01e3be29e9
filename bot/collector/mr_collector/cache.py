"""Base-state snapshots: the scratch database at the base of a review, kept between runs.

Before the new migrations of a pull request can be rendered, every migration they depend on
(the *base*) is applied to an empty scratch database; on a long history that is most of the run.
After it, the database is archived into the cache folder (``<cache-dir>/snapshots/``) under a
key made of what decides its content: the snapshot format, backend and server major version,
Django version, settings module, database alias and the applied set (each migration's app, name
and the digest of its file). The next run restores the snapshot whose applied set is the largest
one contained in the base it needs, every migration in it identical in content, and applies only
the difference.

A restore is proved before it is used: the archive's digest must match the one recorded when it
was written, the restore must succeed, and ``django_migrations`` must then hold exactly the rows
``migrate`` records for the snapshot's applied set. Anything else empties the database again and
the base is migrated from scratch, with a note for the review's footer: a cache makes a review
faster, never different.

Writes are atomic (a temporary folder renamed into place), two runs may share a folder, the
least recently used snapshots are pruned past a size limit, and a folder that cannot be written
is a note, never a failure.

Backends differ only in how a database is archived and restored (``Archiver``): PostgreSQL
uses a custom-format ``pg_dump`` restored with ``pg_restore`` in one transaction into the
scratch database the tool created, on the embedded cluster and on ``--database-url`` alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from . import db
from .cluster import find_bin_dir, log
from .errors import CollectorError

Key = tuple[str, str]
FORMAT = 2  # 2: a squashed migration's replaced migrations are recorded too
SNAPSHOTS = "snapshots"
MANIFEST = "manifest.json"
ARCHIVE = "base.dump"
DEFAULT_LIMIT_BYTES = 2 * 1024**3
STALE_TEMP_SECONDS = 3600.0
CHUNK = 1 << 20


def migration_digest(migration: Any) -> str:
    """The SHA-256 of the file the migration was loaded from."""
    module = sys.modules[type(migration).__module__]
    with open(module.__file__ or "", "rb") as handle:
        return file_digest(handle)


def file_digest(handle: IO[bytes]) -> str:
    """``hashlib.file_digest`` (Python 3.11) for the older interpreters projects run."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Snapshot:
    """One archived base state in the cache folder."""

    folder: Path
    applied: dict[Key, str]
    archive_digest: str
    size: int
    used: float

    @property
    def archive(self) -> Path:
        return self.folder / ARCHIVE


@dataclass
class Outcome:
    """What reaching the base state took, for the review's footer (``base_state``)."""

    migrations: int = 0
    restored: int = 0
    applied: int = 0
    seconds: float = 0.0
    cache: str = "off"  # off, miss, hit, prefix, fallback
    saved: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "migrations": self.migrations,
            "restored": self.restored,
            "applied": self.applied,
            "seconds": round(self.seconds, 3),
            "cache": self.cache,
            "saved": self.saved,
            "notes": self.notes,
        }


class Store:
    """The snapshots of one environment (``fingerprint``) in ``<cache_dir>/snapshots``."""

    def __init__(
        self, cache_dir: Path, fingerprint: Mapping[str, Any], limit: int = DEFAULT_LIMIT_BYTES
    ) -> None:
        self.root = Path(cache_dir) / SNAPSHOTS
        self.fingerprint = {"format": FORMAT, **fingerprint}
        self.limit = limit

    def key(self, applied: Mapping[Key, str]) -> str:
        identity = {
            **self.fingerprint,
            "applied": sorted([app, name, digest] for (app, name), digest in applied.items()),
        }
        return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]

    def snapshots(self) -> list[Snapshot]:
        """Every readable snapshot of this environment; unreadable ones are skipped."""
        found = []
        try:
            folders = list(self.root.iterdir())
        except OSError:
            return []
        for folder in folders:
            if folder.name.startswith("."):
                continue
            try:
                manifest = json.loads((folder / MANIFEST).read_text())
                if manifest["fingerprint"] != self.fingerprint:
                    continue
                applied = {(app, name): digest for app, name, digest in manifest["applied"]}
                found.append(
                    Snapshot(
                        folder,
                        applied,
                        manifest["archive_sha256"],
                        int(manifest["size"]),
                        (folder / MANIFEST).stat().st_mtime,
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return found

    def best(self, needed: Mapping[Key, str]) -> Snapshot | None:
        """The snapshot with the largest applied set within ``needed``, each file unchanged."""
        usable = [
            snapshot
            for snapshot in self.snapshots()
            if all(needed.get(key) == digest for key, digest in snapshot.applied.items())
        ]
        return max(usable, key=lambda s: (len(s.applied), s.used), default=None)

    def touch(self, snapshot: Snapshot) -> None:
        """Mark it used, so that pruning removes the least recently used first."""
        with contextlib.suppress(OSError):
            os.utime(snapshot.folder / MANIFEST)

    def save(self, applied: Mapping[Key, str], write: Any) -> Path:
        """Write a snapshot with ``write(path)`` into a temporary folder, then rename it in.

        Returns its folder. When another run saved the same key first, theirs is kept.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / self.key(applied)
        if (final / MANIFEST).is_file():
            return final
        temp = self.root / f".tmp-{secrets.token_hex(6)}"
        temp.mkdir()
        try:
            write(temp / ARCHIVE)
            with open(temp / ARCHIVE, "rb") as handle:
                digest = file_digest(handle)
            manifest = {
                "fingerprint": self.fingerprint,
                "applied": sorted([app, name, d] for (app, name), d in applied.items()),
                "archive_sha256": digest,
                "size": (temp / ARCHIVE).stat().st_size,
                "created": time.time(),
            }
            (temp / MANIFEST).write_text(json.dumps(manifest, indent=1))
            try:
                os.rename(temp, final)
            except OSError:
                if not (final / MANIFEST).is_file():
                    raise
        finally:
            shutil.rmtree(temp, ignore_errors=True)
        return final

    def discard(self, folder: Path) -> None:
        """Remove a snapshot: renamed away first, so no reader ever sees half of it."""
        trash = self.root / f".trash-{secrets.token_hex(6)}"
        try:
            os.rename(folder, trash)
        except OSError:
            return
        shutil.rmtree(trash, ignore_errors=True)

    def prune(self) -> list[Path]:
        """Remove the least recently used snapshots past the size limit, and stale temporaries.

        All environments count: the limit is the folder's.
        """
        removed = []
        entries = []
        now = time.time()
        for folder in self.root.iterdir():
            try:
                if folder.name.startswith("."):
                    if now - folder.stat().st_mtime > STALE_TEMP_SECONDS:
                        shutil.rmtree(folder, ignore_errors=True)
                    continue
                size = sum(item.stat().st_size for item in folder.iterdir())
                entries.append(((folder / MANIFEST).stat().st_mtime, size, folder))
            except OSError:
                continue
        total = sum(size for _, size, _ in entries)
        for _, size, folder in sorted(entries):
            if total <= self.limit:
                break
            self.discard(folder)
            removed.append(folder)
            total -= size
        return removed


class Archiver:
    """How one backend archives a database into a file and restores it."""

    def dump(self, path: Path) -> None:
        raise NotImplementedError

    def restore(self, archive: IO[bytes]) -> None:
        raise NotImplementedError

    def applied(self) -> set[Key]:
        """The (app, name) rows of ``django_migrations``."""
        raise NotImplementedError

    def empty(self) -> None:
        """Take the database back to its state when the tool created it."""
        raise NotImplementedError

    def restored(self, connection: Any) -> None:
        """Tell Django's open ``connection`` that the database changed under it."""


class PostgresArchiver(Archiver):
    """``pg_dump --format=custom`` and ``pg_restore --single-transaction`` on the scratch URL.

    The scratch database is the tool's own; its marker comment is a database property, which a
    dump without ``--create`` leaves out, so a restored database is still recognised as the
    tool's.
    """

    def __init__(self, url: str, bin_dir: str | None) -> None:
        self.url = url
        folder = find_bin_dir(bin_dir)
        self.pg_dump, self.pg_restore = folder / "pg_dump", folder / "pg_restore"
        for program in (self.pg_dump, self.pg_restore):
            if not program.is_file():
                raise CollectorError(f"{program.name} is missing from {folder}")

    def dump(self, path: Path) -> None:
        self._run(
            [str(self.pg_dump), "--format=custom", "--compress=1", "--no-owner",
             "--no-privileges", f"--file={path}", f"--dbname={self.url}"],
        )  # fmt: skip

    def restore(self, archive: IO[bytes]) -> None:
        self._run(
            [str(self.pg_restore), "--single-transaction", "--exit-on-error", "--no-owner",
             "--no-privileges", f"--dbname={self.url}"],
            stdin=archive,
        )  # fmt: skip

    def applied(self) -> set[Key]:
        connection = db.connect(self.url)
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT app, name FROM django_migrations")
            return {(app, name) for app, name in cursor.fetchall()}
        finally:
            connection.close()

    def empty(self) -> None:
        connection = db.connect(self.url)
        try:
            cursor = connection.cursor()
            cursor.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
                "AND nspname <> 'information_schema'"
            )
            for (schema,) in cursor.fetchall():
                cursor.execute(f'DROP SCHEMA "{schema}" CASCADE')
            cursor.execute("CREATE SCHEMA public")
            cursor.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
        finally:
            connection.close()

    def restored(self, connection: Any) -> None:
        """Extensions came with the restore: register their types, as CreateExtension does."""
        if db.forget_extension_types():
            from django.contrib.postgres.signals import register_type_handlers

            register_type_handlers(connection)

    def _run(self, command: list[str], stdin: IO[bytes] | None = None) -> None:
        env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
        result = subprocess.run(
            command,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            env=env,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace").strip()
            raise CollectorError(
                f"{Path(command[0]).name} exited with {result.returncode}: "
                + (output.splitlines() or [""])[-1][:300]
            )


class BaseCache:
    """Restores the base state of a review from the cache, and saves it after it is built."""

    def __init__(self, store: Store, archiver: Archiver) -> None:
        self.store = store
        self.archiver = archiver
        self.notes: list[str] = []

    def restore(
        self, needed: Mapping[Key, str], connection: Any, rows: Mapping[Key, Iterable[Key]]
    ) -> tuple[set[Key], str]:
        """Restore the best snapshot for ``needed``: (the keys it holds, hit, miss or fallback).

        ``rows`` maps each needed migration to the ``django_migrations`` rows applying it leaves.
        On any failure the database is left as empty as it was, and a note says why.
        """
        snapshot = self.store.best(needed)
        if snapshot is None:
            return set(), "miss"
        try:
            self._restore(snapshot, {row for key in snapshot.applied for row in rows[key]})
        except (CollectorError, OSError, *db.errors()) as exc:
            self.notes.append(
                f"the cached base state {snapshot.folder.name} could not be used ({exc}); "
                "built from scratch instead"
            )
            log(f"snapshot {snapshot.folder} unusable, migrating from scratch: {exc}")
            self.store.discard(snapshot.folder)
            self.archiver.empty()
            return set(), "fallback"
        self.archiver.restored(connection)
        self.store.touch(snapshot)
        return set(snapshot.applied), "hit"

    def _restore(self, snapshot: Snapshot, expected: set[Key]) -> None:
        with open(snapshot.archive, "rb") as archive:
            digest = file_digest(archive)
            if digest != snapshot.archive_digest:
                raise CollectorError("the archive is corrupt or truncated (digest mismatch)")
            archive.seek(0)
            self.archiver.restore(archive)
        found = self.archiver.applied()
        if found != expected:
            extra, missing = sorted(found - expected), sorted(expected - found)
            raise CollectorError(
                "django_migrations does not hold the snapshot's migrations "
                f"({len(missing)} missing, {len(extra)} unexpected)"
            )

    def save(self, applied: Mapping[Key, str]) -> bool:
        """Archive the database at the base state; a failure is a note, not an error."""
        try:
            folder = self.store.save(applied, self.archiver.dump)
            self.store.prune()
        except (CollectorError, OSError) as exc:
            self.notes.append(f"the base state was not saved to the cache folder: {exc}")
            log(f"could not save the base state to {self.store.root}: {exc}")
            return False
        log(f"saved the base state ({len(applied)} migrations) to {folder}")
        return True


def fingerprint(
    version: tuple[int | None, str | None],
    django: str,
    engine: str,
    settings: str,
    alias: str,
) -> dict[str, Any]:
    """What, besides the applied set, decides a snapshot's content (``Store.key``)."""
    return {
        "server": version[0] // 10000 if version[0] else version[1],
        "django": django,
        "engine": engine,
        "settings": settings,
        "alias": alias,
    }


def open_cache(
    cache_dir: str | None,
    *,
    vendor: str,
    url: str,
    bin_dir: str | None,
    fingerprint: Mapping[str, Any],
    limit: int | None = None,
) -> tuple[BaseCache | None, list[str]]:
    """The cache for this run, or None with a note saying why there is none."""
    if not cache_dir:
        return None, []
    if vendor != "postgresql":
        return None, ["cache-dir is ignored: base-state snapshots are kept for PostgreSQL only"]
    try:
        archiver = PostgresArchiver(url, bin_dir)
    except CollectorError as exc:
        return None, [f"cache-dir is ignored: {exc}"]
    store = Store(Path(cache_dir), {"backend": vendor, **fingerprint}, limit or DEFAULT_LIMIT_BYTES)
    return BaseCache(store, archiver), []


class ClusterSeed:
    """The embedded cluster's data folder straight after ``initdb``, kept in the cache folder.

    Unpacking it is faster than running ``initdb`` again. It belongs to the server binaries and
    the user that made it (both in its folder's name), and its digest is checked before use;
    anything wrong and ``initdb`` runs as usual.
    """

    def __init__(self, cache_dir: Path, bin_dir: Path) -> None:
        postgres = (bin_dir / "postgres").stat()
        identity = [FORMAT, str(bin_dir.resolve()), postgres.st_size, postgres.st_mtime_ns]
        identity.append(os.geteuid())
        key = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]
        self.folder = Path(cache_dir) / SNAPSHOTS / f"initdb-{key}"
        self.archive = self.folder / "data.tar"

    def restore(self, data: Path) -> bool:
        try:
            with open(self.archive, "rb") as handle:
                expected = (self.folder / "data.tar.sha256").read_text().strip()
                if file_digest(handle) != expected:
                    raise CollectorError("digest mismatch")
            _tar("-xf", str(self.archive), "-C", str(data.parent))
            if not (data / "PG_VERSION").is_file():
                raise CollectorError("no PG_VERSION in it")
        except FileNotFoundError:
            return False
        except (CollectorError, OSError) as exc:
            log(f"not using the kept initdb folder {self.archive}: {exc}")
            shutil.rmtree(data, ignore_errors=True)
            return False
        return True

    def save(self, data: Path) -> None:
        temp = self.folder / f".tmp-{secrets.token_hex(6)}.tar"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            _tar("-cf", str(temp), "-C", str(data.parent), data.name)
            with open(temp, "rb") as handle:
                digest = file_digest(handle)
            (self.folder / f"{temp.name}.sha256").write_text(digest + "\n")
            os.replace(self.folder / f"{temp.name}.sha256", self.folder / "data.tar.sha256")
            os.replace(temp, self.archive)
        except (CollectorError, OSError) as exc:
            log(f"could not keep the initdb folder in {self.folder}: {exc}")
        finally:
            with contextlib.suppress(OSError):
                temp.unlink(missing_ok=True)


def _tar(*args: str) -> None:
    try:
        result = subprocess.run(["tar", *args], capture_output=True, text=True)
    except OSError as exc:
        raise CollectorError(f"tar cannot run: {exc}") from exc
    if result.returncode != 0:
        raise CollectorError(f"tar {args[0]} failed: {result.stderr.strip()[-300:]}")


def cluster_seed(cache_dir: str | None, url: str | None, bin_dir: str | None) -> ClusterSeed | None:
    """The initdb folder to start the embedded cluster from, when there is a cache folder."""
    if not cache_dir or url:
        return None
    try:
        return ClusterSeed(Path(cache_dir), find_bin_dir(bin_dir))
    except (CollectorError, OSError):
        return None  # starting the cluster says what is missing


def digests(migrations: Iterable[tuple[Key, Any]]) -> dict[Key, str]:
    return {key: migration_digest(migration) for key, migration in migrations}
