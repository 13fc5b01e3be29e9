"""Talking to PostgreSQL without Django: the driver the project has, and connection URLs.

The collector runs in the project's interpreter, which has psycopg 3 or psycopg2 (whichever
Django uses there); both take a libpq URL and speak DB-API, which is all the collector needs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from .errors import CollectorError


def connect(url: str, *, autocommit: bool = True) -> Any:
    """A DB-API connection to ``url`` through psycopg 3, else psycopg2."""
    try:
        import psycopg

        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except ImportError:
        pass
    try:
        import psycopg2
    except ImportError as exc:
        raise CollectorError(
            "neither psycopg nor psycopg2 can be imported by this interpreter",
            hint="install the PostgreSQL driver in the project's environment "
            "(pip install 'psycopg[binary]'), or pass --python with the project's interpreter",
        ) from exc
    connection = psycopg2.connect(url, connect_timeout=10)
    connection.autocommit = autocommit
    return connection


def errors() -> tuple[type[BaseException], ...]:
    """The base error class of whichever driver is installed."""
    found: list[type[BaseException]] = []
    for module in ("psycopg", "psycopg2"):
        try:
            found.append(__import__(module).Error)
        except ImportError:
            continue
    return tuple(found)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error, also when Django wrapped it."""
    for error in (exc, exc.__cause__):
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if code:
            return str(code)
    return None


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server, with the same credentials."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def database_name(url: str) -> str:
    parts = urlsplit(url)
    return unquote(parts.path.lstrip("/")) or dict(parse_qsl(parts.query)).get("dbname", "")


def server_address(url: str) -> str:
    """Host and port of ``url``, never its credentials: safe to print in a report."""
    parts = urlsplit(url)
    host = unquote(parts.hostname or "") or dict(parse_qsl(parts.query)).get("host", "localhost")
    return f"{host}:{parts.port or 5432}"


# OPTIONS of the project's own database entry that shape the session rather than say where the
# server is: libpq's ``options`` carries ``-c lock_timeout=...``, which decides whether a
# migration queues behind a long query, so the scratch database must run with it too.
SESSION_OPTIONS = ("options", "isolation_level")


def django_settings(url: str, engine: str, project: dict[str, Any] | None = None) -> dict[str, Any]:
    """A Django ``DATABASES`` entry for ``url``: its query parameters become OPTIONS, after the
    session OPTIONS of the ``project``'s own entry."""
    kept = {key: value for key, value in (project or {}).items() if key in SESSION_OPTIONS}
    return database_entry(url, engine, database_name(url), kept)


def database_entry(
    url: str, engine: str, name: str, options: dict[str, Any], default_port: int | None = None
) -> dict[str, Any]:
    """A Django ``DATABASES`` entry for database ``name`` on the server of ``url``, whatever the
    server: ``options`` first, the URL's query parameters on top."""
    parts = urlsplit(url)
    return {
        "ENGINE": engine,
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": unquote(parts.hostname or ""),
        "PORT": str(parts.port or default_port or ""),
        "OPTIONS": {**options, **dict(parse_qsl(parts.query))},
    }


def forget_extension_types() -> bool:
    """Forget the type OIDs of hstore and citext that ``django.contrib.postgres`` keeps per
    alias (another database has others); whether that app is installed."""
    from django.apps import apps

    if not apps.is_installed("django.contrib.postgres"):
        return False
    from django.contrib.postgres.signals import get_citext_oids, get_hstore_oids

    get_hstore_oids.cache_clear()
    get_citext_oids.cache_clear()
    return True
