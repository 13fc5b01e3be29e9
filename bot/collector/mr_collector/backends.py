"""Which scratch database a project is reviewed on: the backend its default ENGINE names.

PostgreSQL-family projects get a scratch PostgreSQL (an embedded cluster, or a new database on
``--database-url``), MySQL/MariaDB projects a new database on the server ``--database-url``
names (there is no embedded MySQL), SQLite projects a temporary file. A URL of another kind than
the project's ENGINE is refused: the SQL would be rendered by a backend the project does not run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from . import mysql, probe, sqlite, trace
from .cluster import Seed
from .cluster import scratch as postgresql_scratch
from .errors import CollectorError

SCHEMES = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgis": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB", "sqlite": "SQLite"}
DATABASE_URL_HINT = (
    " (settings that read DATABASE_URL choose their backend from it: set it to any URL of the "
    "backend you deploy to; the SQL is still rendered on a scratch database)"
)


def check_url(vendor: str, engine: str, url: str | None, settings_file: str | None) -> None:
    """Refuse a missing MySQL URL, and a URL of another backend than the project's."""
    if url is None:
        if vendor == "mysql":
            raise CollectorError(
                f"the project's default database is MySQL/MariaDB ({engine}), and there is no "
                "embedded MySQL server to render its SQL on",
                file=settings_file,
                hint="pass --database-url mysql://user:password@host:3306/ with a server the "
                "tool may create a scratch database on (in GitHub Actions: a `services: "
                "mariadb` container)",
            )
        return
    scheme = urlsplit(url).scheme.lower().split("+")[0]
    given = SCHEMES.get(scheme)
    if vendor == "sqlite":
        raise CollectorError(
            f"--database-url is a {scheme}:// URL, but the project's default database is "
            f"SQLite ({engine}): SQLite projects are reviewed on a temporary file",
            file=settings_file,
            hint="drop --database-url, or pass --settings with the settings module of the "
            "database you deploy to" + DATABASE_URL_HINT,
        )
    # A PostgreSQL URL may also be a libpq connection string: only another backend's is refused.
    if given != vendor and (vendor == "mysql" or given is not None):
        raise CollectorError(
            f"--database-url is a {scheme}:// URL, but the project's default database ENGINE "
            f"is {engine} ({NAMES[vendor]})",
            file=settings_file,
            hint=f"pass a {'mysql' if vendor == 'mysql' else 'postgresql'}:// URL, or --settings "
            "with the settings module of the database you deploy to" + DATABASE_URL_HINT,
        )


@contextmanager
def scratch(
    vendor: str, url: str | None, bin_dir: str | None, seed: Seed | None = None
) -> Iterator[tuple[str, str]]:
    """A scratch database for ``vendor``: (URL, where the SQL was rendered, for the report)."""
    if vendor == "mysql":
        assert url is not None
        with mysql.ScratchDatabase(url) as database:
            yield (
                database.url,
                f"{mysql.server_address(url)}, scratch database {database.name}",
            )
    elif vendor == "sqlite":
        with sqlite.ScratchFile() as scratch_file:
            yield scratch_file.url, f"temporary SQLite file {scratch_file.path}"
    else:
        with postgresql_scratch(url, bin_dir, seed) as found:
            yield found


def server_version(vendor: str, connection: Any) -> tuple[int | None, str | None]:
    """(PostgreSQL's server_version_num, the version string of the other backends)."""
    if vendor == "mysql":
        return None, connection.mysql_server_info
    if vendor == "sqlite":
        return None, f"{sqlite3.sqlite_version}-SQLite"
    return connection.pg_version, None


def tracer(vendor: str, connection: Any, url: str) -> Any:
    """What watches the statements while the migration is applied; None for SQLite.

    SQLite has nothing to observe: its lock is the whole database, for the whole transaction.
    """
    if vendor == "mysql":
        return probe.Prober(
            connection.connection,
            mysql.database_name(url),
            mariadb=connection.mysql_is_mariadb,
            version=connection.mysql_version,
        )
    if vendor == "sqlite":
        return None
    return trace.Tracer(connection.connection, url)
