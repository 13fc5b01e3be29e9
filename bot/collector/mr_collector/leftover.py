"""The ``drop`` mode: drop the scratch databases a killed collector left on a server.

A collector killed outright (the out-of-memory killer, the pull request's own code) runs no
cleanup, and on a ``--database-url`` server its database would stay. The bot reads the names it
announced and did not say it dropped (``scratch.announce``) and runs the collector once more to
drop them, with the project's driver, as the collector itself would have.
"""

from __future__ import annotations

import importlib
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from . import cluster, mysql, scratch
from .errors import CollectorError


def drop(request: dict[str, Any], output: dict[str, Any]) -> None:
    url = request["database_url"]
    kind = cluster.ScratchDatabase
    if _is_mysql(url):
        _mysql_driver()
        kind = mysql.ScratchDatabase
    for name in request["names"]:
        if not scratch.NAME.fullmatch(name):
            continue
        try:
            kind.left(url, name).drop()
        except CollectorError as exc:
            output["errors"].append(exc.to_dict())
        else:
            output["dropped"].append(name)


def _is_mysql(url: str) -> bool:
    return urlsplit(url).scheme.lower().split("+")[0] in ("mysql", "mariadb")


def _mysql_driver() -> None:
    """PyMySQL standing in for MySQLdb when that is missing, as projects install it in their
    settings, which this mode does not import (they may be what killed the collector)."""
    try:
        importlib.import_module("MySQLdb")
    except ImportError:
        with suppress(ImportError):
            importlib.import_module("pymysql").install_as_MySQLdb()
