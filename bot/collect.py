"""The collect stage: run the collector process and validate what it prints.

The collector runs the pull request's code (settings, migrations, RunPython), so it runs as a
separate process with the project's interpreter in isolated mode (``python -I``: no ``bot`` on
its path, no PYTHON* variables) and with an environment that holds no GitHub token. Its stdout
is a JSON report validated into ``CollectorOutput``; anything else is a ``ReviewError`` carrying
the end of its stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.classify.sql import split
from bot.collector import COLLECTOR_DIR
from bot.errors import ReviewError
from bot.models import CollectedStatement, CollectorOutput, MigrationFile, Model, ToolError

TOKEN_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)
TIMEOUT = 900.0
# After Ctrl-C or a timeout the collector still has to stop its cluster and drop its database.
CLEANUP_GRACE = 60.0
STDERR_TAIL = 40
HINT = (
    "check that {python} can import the project (its requirements installed: pass --python "
    "with the project's virtual environment) and that --settings names its settings module"
)


class SqlTrace(Model):
    """What the collector prints in ``sql`` mode."""

    server_version_num: int | None = None
    database: str
    statements: list[CollectedStatement]
    errors: list[ToolError]


def collector_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment minus the tokens, also when copied under another variable's name."""
    environ = dict(os.environ if environ is None else environ)
    secrets = {environ[name] for name in TOKEN_VARIABLES if environ.get(name)}
    return {
        name: value
        for name, value in environ.items()
        if name not in TOKEN_VARIABLES and value not in secrets
    }


def repo_root(path: Path) -> Path:
    """The repository holding ``path``: where the diff's file paths are relative to."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return path


def collect(
    project_dir: Path,
    files: list[MigrationFile],
    *,
    python: str | None,
    settings: str | None,
    database_url: str | None,
    trace: bool = True,
    pg_bin: Path | None = None,
    timeout: float = TIMEOUT,
) -> CollectorOutput:
    """Render, apply and trace the new migrations among ``files`` on a scratch PostgreSQL.

    Fills each file's ``app_label`` and ``name`` from Django's loader. Errors of single
    migrations are in the output; a failure of the whole run raises ``ReviewError``.
    """
    project_dir = Path(project_dir).resolve()
    request = {
        "mode": "migrations",
        "project_dir": str(project_dir),
        "repo_root": str(repo_root(project_dir)),
        "settings": settings,
        "database_url": database_url,
        "pg_bin": str(pg_bin) if pg_bin else None,
        "trace": trace,
        "files": [file.model_dump(mode="json") for file in files],
    }
    output = _validate(CollectorOutput, run_collector(request, python=python, timeout=timeout))
    by_path = {file.path: file for file in files}
    for migration in output.migrations:
        if migration.file in by_path:
            by_path[migration.file].app_label = migration.app_label
            by_path[migration.file].name = migration.name
    return output


def trace_sql(
    sql: str,
    *,
    database_url: str | None,
    file: str | None = None,
    pg_bin: Path | None = None,
    timeout: float = TIMEOUT,
) -> list[CollectedStatement]:
    """Run ``sql`` statement by statement on a scratch database, traced."""
    return trace_script(
        sql, database_url=database_url, file=file, pg_bin=pg_bin, timeout=timeout
    ).statements


def trace_script(
    sql: str,
    *,
    database_url: str | None,
    file: str | None = None,
    pg_bin: Path | None = None,
    timeout: float = TIMEOUT,
) -> SqlTrace:
    """``trace_sql`` with the server's version and where it ran, for ``check-sql --trace``.

    The statements are split as ``bot.classify.classify_sql`` splits them, so that the traced
    statement N is the classified statement N.
    """
    request = {
        "mode": "sql",
        "statements": [item.sql for item in split(sql)],
        "database_url": database_url,
        "pg_bin": str(pg_bin) if pg_bin else None,
    }
    return _validate(SqlTrace, run_collector(request, python=None, timeout=timeout, file=file))


def run_collector(
    request: dict[str, Any], *, python: str | None, timeout: float, file: str | None = None
) -> dict[str, Any]:
    """Run the collector with ``request`` on stdin; return its JSON, or raise ``ReviewError``.

    On Ctrl-C, a timeout or any error here, the collector is asked to stop (SIGTERM) and given
    time to drop its database and cluster before it is killed.
    """
    python = python or sys.executable
    try:
        process = subprocess.Popen(
            [python, "-I", str(COLLECTOR_DIR)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=collector_env(),
            text=True,
        )
    except OSError as exc:
        raise ReviewError(
            f"cannot run the collector with {python}: {exc}",
            stage="collect",
            file=file,
            hint="pass --python with the path of the project's Python interpreter",
        ) from exc
    try:
        stdout, stderr = process.communicate(json.dumps(request), timeout=timeout)
    except subprocess.TimeoutExpired:
        stdout, stderr = _stop(process)
        raise ReviewError(
            f"the collector did not finish within {timeout:.0f} s",
            stage="collect",
            file=file,
            hint="a migration may be waiting for a lock or running a long RunPython",
            detail=_tail(stderr),
        ) from None
    except BaseException:
        _stop(process)
        raise
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        raise ReviewError(
            f"the collector failed (exit code {process.returncode}) without a report",
            stage="collect",
            file=file,
            hint=HINT.format(python=python),
            detail=_tail(stderr),
        ) from None
    if process.returncode != 0:
        errors = data.get("errors") or [{"message": "the collector failed"}]
        first = errors[0]
        raise ReviewError(
            first.get("message") or "the collector failed",
            stage="collect",
            file=first.get("file") or file,
            hint=first.get("hint") or HINT.format(python=python),
            detail="\n".join(filter(None, [first.get("detail"), _tail(stderr)])),
        )
    return data


def _stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.communicate(timeout=CLEANUP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def _validate(model: type[Any], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ReviewError(
            "the collector printed a report this version of the tool cannot read",
            stage="collect",
            hint="the collector and the bot come from the same package: reinstall "
            "django-migration-review",
            detail=str(exc),
        ) from exc


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-STDERR_TAIL:])
