"""Which aliases of ``DATABASES`` the migrations are reviewed on, and on which scratch database.

``migrate --database=<alias>`` runs every migration, and each operation asks the routers
(``allow_migrate``) whether to touch that alias. A project with routers may therefore send a
migration's SQL to another alias than ``default``, which the review must then show. Every alias
of the default's backend gets a scratch database of its own on the same server (a file of its
own for SQLite), with its own ENGINE and session OPTIONS. Without DATABASE_ROUTERS, every
migration runs wherever ``migrate`` is pointed, and teams point it at ``default``: only that one
is reviewed, as ``makemigrations`` only checks ``default`` then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import cluster, mysql, sqlite
from .errors import CollectorError

DEFAULT = "default"


def aliases(vendor: str, settings_file: str | None) -> list[str]:
    """The aliases to review on, ``default`` first; raises for a routed alias of another
    backend, which the review cannot give a scratch database of its kind."""
    from django.conf import settings
    from django.db.utils import load_backend

    if not settings.DATABASE_ROUTERS:
        return [DEFAULT]
    found = [DEFAULT]
    for alias, entry in settings.DATABASES.items():
        if alias == DEFAULT:
            continue
        engine = entry.get("ENGINE") or ""
        try:
            other = load_backend(engine).DatabaseWrapper.vendor
        except Exception:
            other = engine
        if other != vendor:
            raise CollectorError(
                f"the database {alias!r} uses {engine or 'no ENGINE'}, another backend than "
                f"the default database's ({vendor}): the migrations DATABASE_ROUTERS send there "
                "cannot be rendered on a scratch database of the same backend",
                file=settings_file,
                hint="review with --settings whose DATABASES use one backend for every alias",
            )
        found.append(alias)
    return found


@contextmanager
def another(vendor: str, url: str) -> Iterator[str]:
    """One more scratch database on the server of the scratch database at ``url``."""
    if vendor == "mysql":
        with mysql.ScratchDatabase(url) as database:
            yield database.url
    elif vendor == "sqlite":
        with sqlite.ScratchFile() as scratch_file:
            yield scratch_file.url
    else:
        with cluster.ScratchDatabase(url) as database:
            yield database.url


def keep(results: list[tuple[str, dict[str, Any], Any]]) -> list[dict[str, Any]]:
    """Of each migration's (alias, result, migration) runs, in plan order, the results of the
    aliases where it ran or failed; the default's when it ran nowhere (a no-op is reviewed
    too). Each result names its alias."""
    by_file: dict[str, list[tuple[str, dict[str, Any], Any]]] = {}
    for alias, result, migration in results:
        result["database"] = alias
        by_file.setdefault(result["file"], []).append((alias, result, migration))
    kept = []
    for runs in by_file.values():
        ran = [result for alias, result, m in runs if result["error"] or runs_on(alias, m, result)]
        kept += ran or [runs[0][1]]
    return kept


def runs_on(alias: str, migration: Any, result: dict[str, Any]) -> bool:
    """Whether applying the migration on ``alias`` did anything: SQL, or Python the routers let
    run there (RunPython asks them itself, with its hints)."""
    from django.db import router

    if result["statements"] or any(info.get("executed_only") for info in result["operations"]):
        return True
    return any(
        not info["reduces_to_sql"]
        and router.allow_migrate(alias, migration.app_label, **getattr(operation, "hints", {}))
        for info, operation in zip(result["operations"], migration.operations, strict=True)
    )
