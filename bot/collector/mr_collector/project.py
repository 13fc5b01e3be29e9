"""Loading the reviewed Django project, pointed at the scratch database.

The project's settings decide which apps and migration modules exist, so they are imported as
the project would (``manage.py`` names the module; it is parsed, never run). The ``default``
database is replaced, before Django opens any connection, by a scratch database of the backend
its ENGINE names, and so is every other alias the review runs on (``databases``); the aliases
left keep their settings and are never connected to by the collector.
"""

from __future__ import annotations

import ast
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from . import db, mysql, sqlite
from .errors import CollectorError

POSTGRESQL_ENGINE = "django.db.backends.postgresql"
SKIPPED_FOLDERS = {"node_modules", "site-packages", "venv", "env", "__pycache__"}


def find_django_root(project_dir: Path) -> Path:
    """The folder holding ``manage.py``: ``project_dir`` itself or a folder at most two below.

    The project folder goes on ``sys.path`` as ``manage.py`` would put it, so that settings and
    apps import under the names the project uses.
    """
    if (project_dir / "manage.py").is_file():
        return project_dir
    found = sorted(
        path.parent
        for pattern in ("*/manage.py", "*/*/manage.py")
        for path in project_dir.glob(pattern)
        if not any(part.startswith(".") or part in SKIPPED_FOLDERS for part in path.parts)
    )
    if len(found) > 1 and len(found[0].parts) == len(found[1].parts):
        raise CollectorError(
            "several manage.py files: "
            + ", ".join(str(path.relative_to(project_dir)) for path in found),
            hint="pass --settings with the settings module of the project to review",
        )
    return found[0] if found else project_dir


def settings_from_manage_py(path: Path) -> str | None:
    """The module ``manage.py`` sets as DJANGO_SETTINGS_MODULE, read from its syntax tree."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) == 2:
            name, value = node.args
            if getattr(node.func, "attr", None) != "setdefault":
                continue
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            name, value = node.targets[0].slice, node.value
        else:
            continue
        if (
            isinstance(name, ast.Constant)
            and name.value == "DJANGO_SETTINGS_MODULE"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            return value.value
    return None


def settings_module(requested: str | None, django_root: Path) -> str:
    module = (
        requested
        or os.environ.get("DJANGO_SETTINGS_MODULE")
        or settings_from_manage_py(django_root / "manage.py")
    )
    if not module:
        raise CollectorError(
            f"cannot tell which settings module to use in {django_root}",
            hint="pass --settings (e.g. mysite.settings), set DJANGO_SETTINGS_MODULE, or keep a "
            "manage.py that sets it",
        )
    return module


def import_settings(module: str, django_root: Path, python_path: list[str] | None = None) -> Any:
    """Import Django and the settings module, with ``django_root`` first on ``sys.path``, then
    the entries of the project's PYTHONPATH (``python -I`` ignores the variable itself)."""
    sys.path[0:0] = [str(django_root), *(python_path or [])]
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    try:
        import django
        from django.conf import settings
    except ImportError as exc:
        raise CollectorError(
            f"Django cannot be imported by {sys.executable}",
            hint="pass --python with the interpreter of the project's virtual environment, "
            "where its requirements are installed",
            detail=str(exc),
        ) from exc
    try:
        settings.DATABASES  # noqa: B018 (importing the settings module is the point)
    except Exception as exc:
        raise CollectorError(
            f"the settings module {module} cannot be imported: {type(exc).__name__}: {exc}",
            file=module_file(module),
            hint="check --settings and that the project's requirements are installed in "
            f"{sys.executable}; the settings must import without a database or network",
            detail=traceback.format_exc(),
        ) from exc
    return django


def default_engine(settings_file: str | None) -> tuple[str, str]:
    """The ENGINE the default database is rendered with, and its vendor.

    The ENGINE itself is kept (PostGIS, GIS MySQL, a wrapper around Django's backend), so the SQL
    is rendered by the backend the project really uses, when its vendor is postgresql, mysql or
    sqlite; any other ENGINE (Oracle, a third-party backend) becomes Django's PostgreSQL.
    """
    from django.conf import settings
    from django.db.utils import load_backend

    engine = (settings.DATABASES.get("default") or {}).get("ENGINE") or POSTGRESQL_ENGINE
    if "mysql" in engine:
        stand_in_for_mysqlclient()
    try:
        vendor = load_backend(engine).DatabaseWrapper.vendor
    except Exception as exc:
        if "mysql" in engine:
            raise CollectorError(
                f"the default database's ENGINE {engine} cannot be loaded: "
                f"{type(exc).__name__}: {exc}",
                file=settings_file,
                hint="install the MySQL driver the project uses in its environment "
                "(mysqlclient, or PyMySQL with pymysql.install_as_MySQLdb() in its settings or "
                "manage.py), or pass --python with the project's interpreter",
            ) from exc
        vendor = None
    if vendor in ("mysql", "sqlite"):
        return engine, vendor
    return (engine if vendor == "postgresql" else POSTGRESQL_ENGINE), "postgresql"


def stand_in_for_mysqlclient() -> None:
    """Let PyMySQL serve as ``MySQLdb`` when mysqlclient is missing.

    mysqlclient needs a compiler and the client headers to install, which the action's image
    does not carry; Django's MySQL backend renders the same SQL through either driver, so a
    project that lists mysqlclient can be reviewed with PyMySQL installed in its place.
    """
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        try:
            import pymysql
        except ImportError:
            return  # loading the backend then says what is missing
        pymysql.install_as_MySQLdb()


def point_default_at(url: str, engine: str, vendor: str, alias: str = "default") -> None:
    """Replace the ``alias`` database by the scratch database at ``url``, with ``engine``."""
    from django.conf import settings

    databases = settings.DATABASES
    options = (databases.get(alias) or {}).get("OPTIONS") or {}
    if vendor == "mysql":
        databases[alias] = mysql.django_settings(url, engine, options)
    elif vendor == "sqlite":
        databases[alias] = {"ENGINE": engine, "NAME": sqlite.path_of(url)}
    else:
        databases[alias] = db.django_settings(url, engine, options)


def repoint_default(url: str, engine: str) -> None:
    """Point the PostgreSQL ``default`` database, loaded already, at another database on the
    same server: the next connection opens there, with no type of the last one remembered."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    entry = settings.DATABASES["default"]  # the dict Django's connection holds too
    entry.update(db.django_settings(url, engine, entry.get("OPTIONS")))
    db.forget_extension_types()


def module_file(module: str) -> str | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec and spec.origin else None
