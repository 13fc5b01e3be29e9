"""Throwaway databases on a MySQL or MariaDB server, through the project's own driver.

There is no embedded MySQL: the server comes from ``--database-url mysql://user:pass@host:port/``
(a ``services: mariadb`` container in GitHub Actions). The collector creates a uniquely named
``mr_scratch_*`` database there, works only in it, and drops it on every way out. The database
the URL names is only connected to, never written to, and must not hold tables of its own (the
server's system schemas excepted): a production URL given by mistake is refused before anything
happens on that server.

The driver is the one Django's MySQL backend uses, ``MySQLdb``: mysqlclient, or PyMySQL when the
project installs it under that name (``pymysql.install_as_MySQLdb()``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from . import db
from .errors import CollectorError
from .scratch import SCRATCH_PREFIX, Scratch

DEFAULT_PORT = 3306
SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
# The project's OPTIONS that shape the session the SQL is rendered in; the rest (option files,
# sockets, SSL) say where and how to connect, which the URL decides here.
SESSION_OPTIONS = ("charset", "init_command", "isolation_level", "sql_mode")


def driver() -> Any:
    try:
        import MySQLdb
    except ImportError as exc:
        raise CollectorError(
            "the MySQL driver (MySQLdb) cannot be imported by this interpreter",
            hint="install the driver the project uses in its environment (mysqlclient, or "
            "PyMySQL with pymysql.install_as_MySQLdb() in its settings or manage.py), or pass "
            "--python with the project's interpreter",
            detail=str(exc),
        ) from exc
    return MySQLdb


def connect(url: str, *, database: str | None = None) -> Any:
    """A DB-API connection in autocommit mode to the server of ``url``."""
    parts = urlsplit(url)
    params: dict[str, Any] = {"connect_timeout": 10, "charset": "utf8mb4"}
    params.update(dict(parse_qsl(parts.query)))
    if parts.hostname:
        params["host"] = unquote(parts.hostname)
    params["port"] = parts.port or DEFAULT_PORT
    if parts.username:
        params["user"] = unquote(parts.username)
    if parts.password:
        params["password"] = unquote(parts.password)
    if database:
        params["database"] = database
    connection = driver().connect(**params)
    connection.autocommit(True)
    return connection


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def server_address(url: str) -> str:
    """Host and port of ``url``, never its credentials: safe to print in a report."""
    parts = urlsplit(url)
    return f"{unquote(parts.hostname or 'localhost')}:{parts.port or DEFAULT_PORT}"


def django_settings(url: str, engine: str, options: dict[str, Any]) -> dict[str, Any]:
    """A ``DATABASES`` entry for ``url``: the project's session OPTIONS, the URL's query on top."""
    kept = {key: options[key] for key in SESSION_OPTIONS if key in options}
    return db.database_entry(url, engine, database_name(url), kept, DEFAULT_PORT)


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class ScratchDatabase(Scratch):
    """A new, uniquely named database on the server of ``url``, dropped on exit."""

    def with_database(self, url: str, name: str) -> str:
        return with_database(url, name)

    def create(self) -> None:
        connection = self._connect()
        try:
            check_server_database(connection, self.server_url)
            try:
                # utf8mb4 as MySQL 8 and current MariaDB default to: the byte lengths the
                # classifier assumes for VARCHAR changes are those of this character set.
                connection.cursor().execute(
                    f"CREATE DATABASE {quote(self.name)} CHARACTER SET utf8mb4"
                )
            except driver().Error as exc:
                raise CollectorError(
                    f"cannot create a scratch database on {server_address(self.server_url)}: {exc}",
                    hint="the user of --database-url needs the CREATE and DROP privileges "
                    f"on databases named {SCRATCH_PREFIX}* (GRANT ALL ON `{SCRATCH_PREFIX}%`.* "
                    "TO the user)",
                ) from exc
            self.created = True
        finally:
            connection.close()

    def drop(self) -> None:
        if not self.created:
            return
        try:
            connection = self._connect()
            try:
                connection.cursor().execute(f"DROP DATABASE IF EXISTS {quote(self.name)}")
            finally:
                connection.close()
        except (CollectorError, driver().Error) as exc:
            address = server_address(self.server_url)
            raise self.cannot_drop(address, f"DROP DATABASE {quote(self.name)}", exc) from exc
        self.created = False

    def _connect(self) -> Any:
        try:
            return connect(self.server_url, database=database_name(self.server_url) or None)
        except CollectorError:
            raise
        except Exception as exc:
            raise CollectorError(
                f"cannot connect to the MySQL/MariaDB server at {server_address(self.server_url)}",
                hint="check --database-url (mysql://user:password@host:port/): the server must "
                "accept this user, who needs the privilege to create databases",
                detail=str(exc),
            ) from exc


def check_server_database(connection: Any, url: str) -> None:
    """Refuse a URL naming a database with tables: most likely a real application's."""
    name = database_name(url)
    if not name or name.lower() in SYSTEM_SCHEMAS:
        return
    cursor = connection.cursor()
    cursor.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (name,)
    )
    tables = int(cursor.fetchone()[0])
    if tables:
        raise CollectorError(
            f"refusing to use {server_address(url)}/{name}: that database holds {tables} table(s)",
            hint="give a URL without a database (mysql://user@host:3306/): the tool creates a "
            "scratch database on the server, migrates only that, and drops it after",
        )
