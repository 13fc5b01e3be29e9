"""The collector process: a JSON request on stdin, a JSON report on stdout.

Modes:

- ``migrations``: load the project, check it at head as ``makemigrations --check`` would
  (``checks``), render and apply each new migration on a scratch database, traced; prints what
  ``bot.models.CollectorOutput`` validates. With no migration file to review, only the checks
  run, on no database.
- ``sql``: run raw SQL statements on a scratch database, traced, for ``check-sql --trace``.
- ``verify``: apply safer alternatives and their originals from the same starting state and
  compare what they leave (``verify``), the sides of each tree in a child process started with
  the argument ``serve``, which reads ``side`` requests one a line (``serve``).

The project's code may print; file descriptor 1 is therefore pointed at stderr for the whole
run and the report goes to a private copy of the original stdout. Exit code 0 means the report
is complete (per-migration errors included), 2 that it holds only a fatal error, 128+N that
signal N interrupted it; in every case the scratch database and cluster are gone by then.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

from . import (
    backends,
    cache,
    checks,
    databases,
    leftover,
    migrate,
    project,
    rawsql,
    side,
    snapshot,
    trace,
    verify,
)
from .deadline import DEADLINE, OutOfTime
from .errors import CollectorError
from .progress import PROGRESS

EXIT_OK, EXIT_FATAL = 0, 2


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP: unwinds like Ctrl-C so that every cleanup runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame: object) -> None:
    # Cleanup must not be cut short by a second signal (a terminal sends one per keypress).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def main() -> int:
    report = _reserve_stdout()
    PROGRESS.start()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    serving = sys.argv[1:] == ["serve"]
    code = serve(report) if serving else answer(sys.stdin.read(), report, _run)
    PROGRESS.close()
    return code


def serve(report: TextIO) -> int:
    """Sides of one tree (``side.Tree``), one request a line on stdin and one report a line on
    ``report``, until stdin is closed."""
    tree = side.Tree()
    code = EXIT_OK
    try:
        for line in sys.stdin:
            code = answer(line, report, tree.run)
            if code > EXIT_FATAL:
                break
    except Interrupted as exc:  # between two requests: nothing to clean up
        code = 128 + exc.signum
    return code


def answer(text: str, report: TextIO, handle: Any) -> int:
    """Handle the request in ``text`` and write its report as one line of JSON."""
    output: dict[str, Any] = {"errors": []}
    code = EXIT_OK
    try:
        request = json.loads(text)
        DEADLINE.start(request.get("timeout"))
        output = empty_output(request.get("mode"))
        handle(request, output)
    except CollectorError as exc:
        output["errors"].append(exc.to_dict())
        code = EXIT_FATAL
    except Interrupted as exc:
        output["errors"].append(
            CollectorError(
                f"interrupted by signal {exc.signum}"
                + (f" at {PROGRESS.position}" if PROGRESS.position else "")
                + "; cleaned up"
            ).to_dict()
        )
        code = 128 + exc.signum
    except OutOfTime:
        output["errors"].append(
            CollectorError(
                f"stopped at {PROGRESS.position or 'its start'}, to end before the "
                f"{DEADLINE.limit or 0:.0f} s time limit",
                hint="allow more time with --timeout (the action's timeout input)",
            ).to_dict()
        )
        code = EXIT_FATAL
    except Exception as exc:
        output["errors"].append(
            CollectorError(
                f"the collector failed: {type(exc).__name__}: {exc}",
                hint="this is a bug in django-migration-review unless the detail shows the "
                "project's code; please report it with the detail",
                detail=traceback.format_exc(),
            ).to_dict()
        )
        code = EXIT_FATAL
    json.dump(output, report)
    report.write("\n")
    report.flush()
    return code


def _run(request: dict[str, Any], output: dict[str, Any]) -> None:
    if request["mode"] == "migrations":
        collect_migrations(request, output)
    elif request["mode"] == "verify":
        verify.run(request, output)
    elif request["mode"] == "side":
        side.Tree().run(request, output)
    elif request["mode"] == "drop":
        leftover.drop(request, output)
    else:
        rawsql.trace_statements(request, output)


def empty_output(mode: object) -> dict[str, Any]:
    if mode == "migrations":
        return {
            "django_version": "",
            "python_version": platform.python_version(),
            "backend": "postgresql",
            "server_version_num": None,
            "server_version": None,
            "database": "",
            "migrations": [],
            "conflicts": [],
            "missing": [],
            "partitioned": [],
            "errors": [],
        }
    if mode == "sql":
        return {"server_version_num": None, "database": "", "statements": [], "errors": []}
    if mode == "verify":
        return {"database": "", "results": [], "cached": 0, "errors": []}
    if mode == "side":
        keys = ("schema", "state", "traces", "pending", "problems", "errors")
        return {key: {} if key in ("schema", "state") else [] for key in keys}
    if mode == "drop":
        return {"dropped": [], "errors": []}
    raise CollectorError(
        f"unknown request mode {mode!r}: expected 'migrations', 'sql', 'verify', 'side' or 'drop'"
    )


def collect_migrations(request: dict[str, Any], output: dict[str, Any]) -> None:
    project_dir = Path(request["project_dir"]).resolve()
    repo_root = Path(request.get("repo_root") or project_dir).resolve()
    django_root = project.find_django_root(project_dir)
    module = project.settings_module(request.get("settings"), django_root)
    django = project.import_settings(module, django_root, request.get("python_path"))
    output["django_version"] = django.get_version()
    settings_file = _relative(project.module_file(module), repo_root)
    engine, vendor = project.default_engine(settings_file)
    output["backend"] = vendor
    if request["files"] or request.get("database_url"):  # a URL given is checked anyway
        backends.check_url(vendor, engine, request.get("database_url"), settings_file)
    if not request["files"]:  # the checks at head need no database: none is made
        _setup(django, repo_root)
        _check(output, repo_root)
        return
    aliases = databases.aliases(vendor, settings_file)
    seed = None
    if vendor == "postgresql":
        seed = cache.cluster_seed(
            request.get("cache_dir"), request.get("database_url"), request.get("pg_bin")
        )
    with (
        backends.scratch(vendor, request.get("database_url"), request.get("pg_bin"), seed) as (
            url,
            where,
        ),
        ExitStack() as more,
    ):
        output["database"] = where
        urls = {alias: more.enter_context(databases.another(vendor, url)) for alias in aliases[1:]}
        project.point_default_at(url, engine, vendor)
        for alias, other in urls.items():
            project.point_default_at(other, _engine(alias, engine), vendor, alias)
        urls[databases.DEFAULT] = url
        from django.db import connection, connections

        tracers: list[Any] = []
        try:
            _setup(django, repo_root)
            connection.ensure_connection()
            version = backends.server_version(vendor, connection)
            output["server_version_num"], output["server_version"] = version
            results: list[tuple[str, dict[str, Any], Any]] = []
            for alias in aliases:
                connections[alias].ensure_connection()
                tracer = None
                if request.get("trace", True):
                    tracer = backends.tracer(vendor, connections[alias], urls[alias])
                if tracer is not None:
                    tracers.append(tracer)
                collection = _load(
                    repo_root, connections[alias], tracer, rehearse=request.get("rollback", True)
                )
                snapshots, notes = cache.open_cache(
                    request.get("cache_dir"),
                    vendor=vendor,
                    url=urls[alias],
                    bin_dir=request.get("pg_bin"),
                    fingerprint=cache.fingerprint(
                        version,
                        output["django_version"],
                        _engine(alias, engine),
                        module,
                        alias,
                    ),
                    limit=request.get("cache_limit"),
                )
                collection.base_state.notes += notes
                collection.run(request["files"], snapshots)
                output["stopped_at"] = output.get("stopped_at") or collection.stopped_at
                nodes = collection.loader.graph.nodes
                results += [
                    (alias, m, nodes[(m["app_label"], m["name"])]) for m in collection.migrations
                ]
                output["errors"] += [e for e in collection.errors if e not in output["errors"]]
                if alias == databases.DEFAULT:
                    output["base_state"] = collection.base_state.to_dict()
                    if vendor == "postgresql":
                        output["partitioned"] = snapshot.partitioned(connections[alias].cursor())
            output["migrations"] = databases.keep(results)
            # After the review, which comes first: checking head runs Django's autodetector,
            # whose optimizer takes minutes for thousands of missing operations.
            if output.get("stopped_at") is None:
                _check(output, repo_root)
        finally:
            for tracer in tracers:
                tracer.close()
            connections.close_all()


def _engine(alias: str, default_engine: str) -> str:
    """The alias's own ENGINE (it has the default's backend: ``databases.aliases``)."""
    from django.conf import settings

    return settings.DATABASES[alias].get("ENGINE") or default_engine


def _setup(django: Any, repo_root: Path) -> None:
    hint = (
        "the project must import with its requirements installed and no database or network "
        "other than the scratch PostgreSQL"
    )
    with _project_code(repo_root, "Django could not load the project's apps", hint):
        django.setup()


def _load(
    repo_root: Path, connection: Any, tracer: trace.Tracer | None, *, rehearse: bool
) -> migrate.Collection:
    hint = (
        "`manage.py migrate` loads the migrations the same way and fails too: fix the file "
        "named here"
    )
    with _project_code(repo_root, "Django could not load the migrations", hint):
        collection = migrate.Collection(connection, repo_root, tracer, rehearse=rehearse)
    return collection


def _check(output: dict[str, Any], repo_root: Path) -> None:
    failed = "checking the migrations at head as `makemigrations --check --dry-run` does failed"
    hint = (
        "`manage.py makemigrations --check --dry-run` fails the same way: fix the file named here"
    )
    with _project_code(repo_root, failed, hint):
        checks.run(output, repo_root)


@contextmanager
def _project_code(repo_root: Path, failed: str, hint: str) -> Iterator[None]:
    """The project's code runs inside: what it raises is reported as ``failed``, naming the
    project file it came from."""
    try:
        yield
    except Exception as exc:
        raise CollectorError(
            f"{failed}: {type(exc).__name__}: {exc}",
            file=_blame(exc, repo_root),
            hint=hint,
            detail=traceback.format_exc(),
        ) from exc


def _blame(exc: BaseException, repo_root: Path) -> str | None:
    """The project file an exception came from: where a SyntaxError is, else the last frame."""
    candidates = [getattr(exc, "filename", None)]
    candidates += reversed([frame.filename for frame in traceback.extract_tb(exc.__traceback__)])
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return str(Path(candidate).resolve().relative_to(repo_root))
        except ValueError:
            continue
    return None


def _relative(path: str | None, repo_root: Path) -> str | None:
    if path is None:
        return None
    try:
        return str(Path(path).resolve().relative_to(repo_root))
    except ValueError:
        return path


def _reserve_stdout() -> TextIO:
    """Keep the real stdout for the report; send everything else written to fd 1 to stderr."""
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return report
