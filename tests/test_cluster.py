"""The throwaway PostgreSQL: an embedded cluster and scratch databases, and what they leave."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

import psycopg
import pytest

from bot.collector.mr_collector.cluster import (
    MARKER,
    EmbeddedCluster,
    ScratchDatabase,
    find_bin_dir,
)
from bot.collector.mr_collector.errors import CollectorError
from bot.collector.mr_collector.scratch import SCRATCH_PREFIX


def processes_using(path: Path) -> list[int]:
    """Pids whose command line mentions ``path`` (a postgres serving that data folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(path) in cmdline:
            found.append(int(entry.name))
    return found


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def databases(url: str) -> set[str]:
    with psycopg.connect(url) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


def test_embedded_cluster_runs_and_leaves_nothing(pg_bin: Path) -> None:
    with EmbeddedCluster(pg_bin) as cluster:
        directory, port = cluster.directory, cluster.port
        assert directory is not None and port is not None
        with psycopg.connect(cluster.url) as connection:
            version = connection.execute("SHOW server_version_num").fetchone()[0]
            fsync = connection.execute("SHOW fsync").fetchone()[0]
        assert version.startswith(cluster.version)
        assert fsync == "off"
        assert processes_using(directory)
    assert not directory.exists()
    assert not listening(port)
    assert processes_using(directory) == []


def test_embedded_cluster_is_removed_when_the_block_fails(pg_bin: Path) -> None:
    with pytest.raises(RuntimeError), EmbeddedCluster(pg_bin) as cluster:
        directory = cluster.directory
        raise RuntimeError("a migration blew up")
    assert directory is not None and not directory.exists()
    assert processes_using(directory) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root must switch to an unprivileged user")
def test_embedded_cluster_runs_unprivileged_when_root(pg_bin: Path) -> None:
    with EmbeddedCluster(pg_bin) as cluster:
        pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
        status = Path(f"/proc/{pid}/status").read_text()
    uid = next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))
    assert int(uid) != 0


def test_missing_server_binaries_are_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CollectorError) as error:
        find_bin_dir(tmp_path)
    assert str(tmp_path) in error.value.message
    assert "--database-url" in (error.value.hint or "")


def test_scratch_database_is_marked_and_dropped(pg_url: str) -> None:
    with ScratchDatabase(pg_url) as scratch:
        assert scratch.name.startswith(SCRATCH_PREFIX)
        with psycopg.connect(scratch.url) as connection:
            comment = connection.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = current_database()"
            ).fetchone()[0]
            connection.execute("CREATE TABLE kept_open (id int)")
        assert comment == MARKER
        # A session left open must not keep the database from being dropped.
        leftover = psycopg.connect(scratch.url)
    assert scratch.name not in databases(pg_url)
    leftover.close()


def test_a_tool_made_database_may_serve_as_the_server_url(pg_url: str) -> None:
    with ScratchDatabase(pg_url) as outer:
        with psycopg.connect(outer.url, autocommit=True) as connection:
            connection.execute("CREATE TABLE t (id int)")
        with ScratchDatabase(outer.url) as inner:
            assert inner.name in databases(pg_url)
        assert inner.name not in databases(pg_url)


def test_a_user_without_createdb_gets_a_hint(pg_url: str) -> None:
    role = f"mr_nocreate_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    try:
        url = pg_url.replace("://postgres@", f"://{role}@", 1)
        assert role in url
        with pytest.raises(CollectorError) as error, ScratchDatabase(url):
            pass
        assert "cannot create a scratch database" in error.value.message
        assert "CREATEDB" in (error.value.hint or "")
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_a_database_with_tables_not_made_by_the_tool_is_refused(pg_url: str) -> None:
    name = f"mr_foreign_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        foreign = pg_url.rsplit("/", 1)[0] + "/" + name
        with psycopg.connect(foreign, autocommit=True) as connection:
            connection.execute("CREATE TABLE customers (id int)")
        scratch = ScratchDatabase(foreign)
        with pytest.raises(CollectorError) as error, scratch:
            pass
        assert "refusing" in error.value.message and name in error.value.message
        assert scratch.name not in databases(pg_url)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
