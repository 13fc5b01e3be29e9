"""The collect stage: run the collector process and validate what it prints.

The collector runs the pull request's code (settings, migrations, RunPython), so it runs as a
separate process with the project's interpreter in isolated mode (``python -I``: no ``bot`` on
its path, no PYTHON* variables) and with an environment that holds no GitHub token. PYTHONPATH is
the project's own configuration (a ``src/`` layout, a vendored package), so its entries are passed
in the request and put on the collector's path after the project folder, as ``python manage.py``
would put them. ``-B`` keeps it from writing bytecode: the head may be the user's own checkout.
Its stdout is a JSON report validated into ``CollectorOutput``; anything else is a
``ReviewError`` carrying the end of its stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from contextlib import suppress
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.classify.sql import statements
from bot.collector import COLLECTOR_DIR
from bot.collector.mr_collector.progress import PREFIX as PROGRESS_PREFIX
from bot.errors import ReviewError
from bot.models import CollectedStatement, CollectorOutput, MigrationFile, Model, ToolError
from bot.sandbox import (
    announced_databases,
    as_untrusted,
    collector_tmp,
    hand_over,
    untrusted_user,
)
from bot.secret_env import without_secrets

TIMEOUT = 600.0
# After Ctrl-C or a timeout the collector still has to stop its cluster and drop its database.
CLEANUP_GRACE = 60.0
# Dropping what a killed collector left: a connection (10 s at most) and a DROP per database.
DROP_TIMEOUT = 60.0
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


def python_path(environ: dict[str, str] | None = None) -> list[str]:
    """PYTHONPATH's entries, absolute: relative ones are relative to where the review runs."""
    value = (os.environ if environ is None else environ).get("PYTHONPATH", "")
    return [str(Path(entry).resolve()) for entry in value.split(os.pathsep) if entry]


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
    cache_dir: Path | None = None,
    base_sources: dict[str, str] | None = None,
) -> CollectorOutput:
    """Render, apply and trace the new migrations among ``files`` on a scratch PostgreSQL.

    Fills each file's ``app_label`` and ``name`` from Django's loader. Errors of single
    migrations are in the output; a failure of the whole run raises ``ReviewError``.
    ``base_sources`` (path -> source at the merge-base) lets the collector tell whether a
    modified migration changes what it does.
    """
    project_dir = Path(project_dir).resolve()
    if cache_dir is not None and untrusted_user() is not None:
        # The collector keeps its snapshots there, as the untrusted user (a folder it cannot
        # use is its note to make, not an error here).
        with suppress(OSError):
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            hand_over(Path(cache_dir))
    request = {
        "mode": "migrations",
        "project_dir": str(project_dir),
        "repo_root": str(repo_root(project_dir)),
        "settings": settings,
        "python_path": python_path(),
        "database_url": database_url,
        "pg_bin": str(pg_bin) if pg_bin else None,
        "trace": trace,
        "cache_dir": str(Path(cache_dir).resolve()) if cache_dir else None,
        "files": [
            file.model_dump(mode="json") | {"base_source": (base_sources or {}).get(file.path)}
            for file in files
        ],
    }
    output = _validate(CollectorOutput, run_collector(request, python=python, timeout=timeout))
    by_path = {file.path: file for file in files}
    for migration in output.migrations:
        if migration.file in by_path:
            by_path[migration.file].app_label = migration.app_label
            by_path[migration.file].name = migration.name
    return output


def trace_script(
    sql: str,
    *,
    database_url: str | None,
    file: str | None = None,
    pg_bin: Path | None = None,
    timeout: float = TIMEOUT,
) -> SqlTrace:
    """Run ``sql`` statement by statement on a scratch database, traced; with the server's
    version and where it ran, for ``check-sql --trace``.

    The statements are split as ``bot.classify.classify_sql`` splits them, so that the traced
    statement N is the classified statement N.
    """
    request = {
        "mode": "sql",
        "statements": [statement for statement, _ in statements(sql)],
        "database_url": database_url,
        "pg_bin": str(pg_bin) if pg_bin else None,
    }
    return _validate(SqlTrace, run_collector(request, python=None, timeout=timeout, file=file))


def run_collector(
    request: dict[str, Any], *, python: str | None, timeout: float, file: str | None = None
) -> dict[str, Any]:
    """Run the collector with ``request`` on stdin; return its JSON, or raise ``ReviewError``.

    On Ctrl-C, SIGTERM, a timeout or any error here, the collector is asked to stop (SIGTERM) and
    given time to drop its database and cluster before it is killed; whatever it leaves in its
    temporary folder (a server, if it was killed) is stopped and removed after.
    """
    python = python or sys.executable
    with collector_tmp() as tmp:
        try:
            returncode, stdout, stderr = _communicate(request, python, timeout, file, tmp)
        finally:
            left = _drop_left(request, python, tmp)
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        raise _no_report(returncode, python, file, stderr, left) from None
    if returncode != 0:
        errors = data.get("errors") or [{"message": "the collector failed"}]
        first = errors[0]
        raise ReviewError(
            first.get("message") or "the collector failed",
            stage="collect",
            file=first.get("file") or file,
            hint=first.get("hint") or HINT.format(python=python),
            detail="\n".join(filter(None, [first.get("detail"), stderr])),
        )
    return data


def _communicate(
    request: dict[str, Any], python: str, timeout: float, file: str | None, tmp: Path
) -> tuple[int, str, str]:
    """Run the collector to its end: (exit code, stdout, stderr)."""
    read_end, write_end = os.pipe()
    user, user_env = as_untrusted(home=tmp)
    try:
        process = subprocess.Popen(
            [python, "-I", "-B", str(COLLECTOR_DIR)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=write_end,
            env={**without_secrets(), **user_env, "TMPDIR": str(tmp)},
            text=True,
            **user,
        )
    except OSError as exc:
        os.close(read_end)
        raise ReviewError(
            f"cannot run the collector with {python}: {exc}",
            stage="collect",
            file=file,
            hint="pass --python with the path of the project's Python interpreter",
        ) from exc
    finally:
        os.close(write_end)
    stderr = CollectorLog(read_end)
    try:
        stdout, _ = process.communicate(
            json.dumps({**request, "timeout": timeout}), timeout=timeout
        )
    except subprocess.TimeoutExpired:
        _stop(process)
        at = f": it was at {stderr.position}" if stderr.position else ""
        raise ReviewError(
            f"the collector did not finish within {timeout:.0f} s{at}",
            stage="collect",
            file=file,
            hint="that migration may be waiting for a lock or running a long RunPython; if it "
            "is only slow, allow more time with --timeout (the action's timeout input)",
            detail=stderr.text(),
        ) from None
    except BaseException:
        _stop(process)
        raise
    text = stderr.text()
    if process.returncode < 0 and stderr.position:
        text += f"\n(it was at {stderr.position})"
    return process.returncode, stdout, text


class CollectorLog:
    """The collector's stderr, read as it is written: its progress lines are shown at once (and
    the last one kept), the end of everything is kept for error messages."""

    def __init__(self, fd: int) -> None:
        self.lines: deque[str] = deque(maxlen=STDERR_TAIL)
        self.position: str | None = None
        self._file = os.fdopen(fd, encoding="utf-8", errors="replace")
        self._thread = threading.Thread(target=self._read, name="mr-collector-log", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._file:
            for line in self._file:
                line = line.rstrip("\n")
                if line.startswith(PROGRESS_PREFIX):
                    self.position = line.removeprefix(PROGRESS_PREFIX)
                    print(f"migration-review: {self.position}", file=sys.stderr, flush=True)
                self.lines.append(line)

    def text(self) -> str:
        """What was written, up to its end: a child the PR's code left holding the pipe is not
        waited for long."""
        self._thread.join(timeout=5)
        return "\n".join(self.lines).strip()


def _drop_left(request: dict[str, Any], python: str, tmp: Path) -> str:
    """Drop the scratch databases a killed collector left on the ``--database-url`` server, by
    running the collector once more (the project's driver); what became of them, in words, or
    "" when it left none."""
    url = request.get("database_url")
    names = announced_databases(tmp)
    if not url or not names:
        return ""
    drop = {"mode": "drop", "database_url": url, "names": names}
    try:
        _, stdout, _ = _communicate(drop, python, DROP_TIMEOUT, None, tmp)
        done = json.loads(stdout)
    except (ReviewError, json.JSONDecodeError):
        done = {"dropped": [], "errors": [{"message": "the collector could not drop them"}]}
    said = []
    if done.get("dropped"):
        said.append(f"it left {', '.join(done['dropped'])} on the --database-url server, dropped")
    for error in done.get("errors") or []:
        said.append(f"{error.get('message')}: {error.get('hint') or 'drop it by hand'}")
    if not said:  # nothing dropped and nothing said: named, so that they can be found
        said.append(f"it left {', '.join(names)} on the --database-url server: drop them")
    return "; ".join(said)


def _no_report(
    returncode: int, python: str, file: str | None, stderr: str, left: str = ""
) -> ReviewError:
    """The collector ended without its JSON: killed, or it could not even start its work.
    ``left``: what became of the scratch databases it left (``_drop_left``)."""
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return ReviewError(
            f"the collector was killed by {name} before it finished",
            stage="collect",
            file=file,
            hint="something outside the review stopped it: the out-of-memory killer, the job "
            "being cancelled, or the project's own code (a RunPython or a settings module that "
            "kills its process); the detail ends with what it was doing. An embedded "
            "PostgreSQL it started was stopped" + (f"; {left}" if left else ""),
            detail=stderr,
        )
    return ReviewError(
        f"the collector failed (exit code {returncode}) without a report",
        stage="collect",
        file=file,
        hint=HINT.format(python=python),
        detail=stderr,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, time to clean up, then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=CLEANUP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


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
