"""The reviewed project's own Python environment, in which the collector runs.

Django must import the project's apps to load its migrations, so the project's requirements have
to be installed somewhere. Installing them next to the bot's would let a project pin a package
the bot needs at another version (or the reverse); inside the action's container the project
therefore gets a virtual environment of its own, made at run time, and only the collector
process runs in it. The bot passes that environment's interpreter to ``bot.collect.collect``.

The environment is made and filled by uv, with its cache in ``<cache-dir>/uv`` when the action's
``cache-dir`` is kept between runs (README's ``actions/cache`` step keeps it with the base-state
snapshots): a run whose requirements did not change installs from the cache. ``uv venv --seed``
puts pip in the environment too, for an ``install-command`` that calls it; ``uv`` itself is on
PATH there and uses the same cache.

Installing requirements runs the pull request's code (a ``setup.py``, a build backend, a package
the PR adds), so it runs with the same stripped environment as the collector: no token.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.errors import ReviewError
from bot.sandbox import as_untrusted, hand_over
from bot.secret_env import without_secrets

# What the collector itself imports in the project's interpreter, and what to install when the
# project's requirements leave it out (a project on SQLite in development may list no driver).
COLLECTOR_NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    "Django": (("django",), "Django"),
    "a PostgreSQL driver": (("psycopg", "psycopg2"), "psycopg[binary]"),
}

HINT = (
    "Fix the file, or set the action's install-command input to the command that installs the "
    "project's requirements (it runs with the project's virtual environment first on PATH)."
)
TAIL_LINES = 60
ERROR_STARTS = ("ERROR:", "error:", "  \N{MULTIPLICATION SIGN} ")
"""How pip's and uv's error lines begin."""
UV_CACHE = "uv"
"""uv's cache, under the cache folder shared with the base-state snapshots."""


@contextmanager
def project_python(
    workdir: Path, install_command: str | None, *, cache_dir: Path | None = None
) -> Iterator[str]:
    """``prepare_project_python`` in a temporary folder, removed on every way out."""
    folder = Path(tempfile.mkdtemp(prefix="mr-project-env-"))
    folder.chmod(0o755)  # the collector, run as the untrusted user, runs its interpreter
    hand_over(folder)
    try:
        yield prepare_project_python(
            workdir, install_command, venv_dir=folder / "venv", cache_dir=cache_dir
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def prepare_project_python(
    workdir: Path, install_command: str | None, *, venv_dir: Path, cache_dir: Path | None = None
) -> str:
    """Make a virtual environment for the project in ``venv_dir`` and return its interpreter.

    ``install_command`` is a shell command run in ``workdir`` with the environment's ``bin``
    first on PATH; when it is empty, ``requirements.txt`` or an installable ``pyproject.toml``
    is detected. Django and a PostgreSQL driver are added when the requirements lack them.
    uv's cache is ``<cache_dir>/uv`` (none without a cache folder).
    """
    venv = Path(venv_dir)
    uv = uv_binary()
    env = install_env(venv, uv, cache_dir)
    if "UV_CACHE_DIR" in env:  # uv writes its cache as the user the install runs as
        Path(env["UV_CACHE_DIR"]).mkdir(parents=True, exist_ok=True)
        hand_over(Path(env["UV_CACHE_DIR"]))
    python = create_venv(venv, uv, env)
    if install_command and install_command.strip():
        _run(
            ["/bin/sh", "-c", install_command],
            workdir,
            env,
            what=f"the install command `{install_command}`",
            file=None,
        )
    elif (detected := detect_install(workdir)) is not None:
        pip_args, file = detected
        _pip_install(uv, python, pip_args, workdir, env, file=file)
    if missing := missing_collector_needs(python, env):
        _pip_install(uv, python, missing, workdir, env, why=" (the collector needs them)")
    return python


def uv_binary() -> str:
    """uv, from the ``uv`` package the action's image installs (the ``action`` extra)."""
    try:
        from uv import find_uv_bin
    except ImportError:
        found = shutil.which("uv")
        if found:
            return found
        raise ReviewError(
            "uv is not installed: it builds the reviewed project's virtual environment",
            stage="collect",
            hint="pip install 'django-migration-review[action]' (or put uv on PATH)",
        ) from None
    return find_uv_bin()


def create_venv(venv: Path, uv: str, env: dict[str, str]) -> str:
    """An isolated environment with pip (seeded), from the interpreter running the bot."""
    result = subprocess.run(
        [uv, "venv", "--seed", "--quiet", "--allow-existing",
         "--python", sys.executable, str(venv)],
        capture_output=True,
        text=True,
        env=env,
        **as_untrusted(home=venv.parent)[0],
    )  # fmt: skip
    if result.returncode != 0:
        raise ReviewError(
            f"could not create the project's virtual environment in {venv}",
            stage="collect",
            hint="uv could not make a virtual environment with this Python; see the detail",
            detail=_tail(result.stdout + result.stderr),
        )
    return str(venv / "bin" / "python")


def detect_install(workdir: Path) -> tuple[list[str], str] | None:
    """pip arguments for the project's requirements, and the file they come from.

    A ``pyproject.toml`` counts only when it describes a package (``[project]`` or
    ``[build-system]``): many Django projects keep one for tool settings alone, and ``pip
    install .`` would fail on those.
    """
    if (workdir / "requirements.txt").is_file():
        return ["-r", "requirements.txt"], "requirements.txt"
    pyproject = workdir / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ReviewError(
                f"cannot read pyproject.toml: {exc}",
                stage="collect",
                file=str(pyproject),
                hint=HINT,
            ) from exc
        if "project" in data or "build-system" in data:
            return ["."], "pyproject.toml"
    return None


def missing_collector_needs(python: str, env: dict[str, str]) -> list[str]:
    """The requirements to add so that the collector can import what it needs."""
    modules = sorted({m for names, _ in COLLECTOR_NEEDS.values() for m in names})
    probe = (
        "import importlib.util, sys\n"
        "for m in sys.argv[1:]:\n"
        "    print(m, importlib.util.find_spec(m) is not None)\n"
    )
    user, _ = as_untrusted(home=Path(env["VIRTUAL_ENV"]).parent)
    result = subprocess.run(
        [python, "-I", "-c", probe, *modules], capture_output=True, text=True, env=env, **user
    )
    if result.returncode != 0:
        raise ReviewError(
            "the project's virtual environment cannot run Python",
            stage="collect",
            detail=_tail(result.stdout + result.stderr),
        )
    found = {
        name for name, ok in (line.split() for line in result.stdout.splitlines()) if ok == "True"
    }
    return [req for names, req in COLLECTOR_NEEDS.values() if not found.intersection(names)]


def install_env(venv: Path, uv: str, cache_dir: Path | None = None) -> dict[str, str]:
    """The environment for installing: the venv first on PATH, uv next, and no secrets.

    The requirements are the pull request's code: they get the collector's environment, which
    holds no token under any name, and none of the action's ``INPUT_*`` variables either.
    """
    env = {
        name: value
        for name, value in without_secrets().items()
        if not name.startswith("INPUT_")
        and "TOKEN" not in name.upper()
        and name not in {"PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    env.update(as_untrusted(home=venv.parent)[1])
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = os.pathsep.join(
        [str(venv / "bin"), str(Path(uv).parent), env.get("PATH", os.defpath)]
    )
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    if cache_dir is not None:
        env["UV_CACHE_DIR"] = str(Path(cache_dir).resolve() / UV_CACHE)
        env["UV_LINK_MODE"] = "copy"  # the cache and the venv are on different file systems
    return env


def _pip_install(
    uv: str,
    python: str,
    requirements: list[str],
    workdir: Path,
    env: dict[str, str],
    *,
    file: str | None = None,
    why: str = "",
) -> None:
    _run(
        [uv, "pip", "install", "--python", python, *requirements],
        workdir,
        env,
        what=f"`uv pip install {shlex.join(requirements)}`{why}",
        file=file,
    )


def _run(
    cmd: list[str], workdir: Path, env: dict[str, str], *, what: str, file: str | None
) -> None:
    print(f"migration-review: installing the project's requirements: {what}", file=sys.stderr)
    user, _ = as_untrusted(home=Path(env["VIRTUAL_ENV"]).parent)
    result = subprocess.run(
        cmd,
        cwd=workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **user,
    )
    if result.returncode != 0:
        tail = _tail(result.stdout)
        errors = [line for line in tail.splitlines() if line.startswith(ERROR_STARTS)]
        shown = "\n".join(errors or tail.splitlines()[-10:])
        raise ReviewError(
            f"{what} failed with exit code {result.returncode}:\n{shown}",
            stage="collect",
            file=_shown_path(workdir / file) if file else None,
            hint=HINT,
            detail=tail,
        )


def _shown_path(path: Path) -> str:
    """Relative to the current folder (the repository, in the action) when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _tail(output: str) -> str:
    return "\n".join(output.strip().splitlines()[-TAIL_LINES:])
