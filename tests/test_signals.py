"""Signals and kills through the real CLI: ``migration-review analyze`` in a process of its own
on the demo repository plus one migration that holds (or kills) the collector mid-review.

SIGTERM (``docker stop``, ``timeout``, a cancelled job) must unwind like Ctrl-C: the collector
stopped, its embedded PostgreSQL stopped, every temporary folder and the git worktree removed.
A collector killed outright (SIGKILL) runs no cleanup: the bot stops the server it left, drops
the scratch database it left on a ``--database-url`` server (or says it could not, when that
server is gone too), and says it was killed. And a migration that hangs is stopped at
``--timeout``, named.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.collector.mr_collector.cluster import EmbeddedCluster
from bot.demo import build_repository
from tests import kiosk
from tests.test_cluster import processes_using
from tests.test_mysql import scratch_databases, server_url
from tests.test_pipeline import commit, git

ROOT = Path(__file__).resolve().parent.parent

HOLDING = """import json, os, signal, time
from pathlib import Path

from django.db import migrations


def hold(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('data_directory'), current_database()")
        data, database = cursor.fetchone()
    held = {"data": data, "database": database, "pid": os.getpid()}
    Path(os.environ["MR_TEST_HOLD"]).write_text(json.dumps(held))
    if os.environ.get("MR_TEST_KILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(120)


class Migration(migrations.Migration):
    dependencies = [("shop", "0008_remove_customer_fax")]
    operations = [migrations.RunPython(hold, migrations.RunPython.noop)]
"""


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    project = tmp_path / "project"
    base, _ = build_repository(project)
    (project / "shop" / "migrations" / "0009_hold.py").write_text(HOLDING)
    return project, base, commit(project, "holds the collector")


@pytest.fixture
def tmp() -> Iterator[Path]:
    """The bot's TMPDIR: where every folder it and the collector make must be gone after.

    Outside pytest's own (private) folder: as root, the cluster runs as ``postgres``, who must
    reach its data folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="mr-test-signals-"))
    folder.chmod(0o711)
    yield folder
    for pid in processes_using(folder):  # what a failing run left
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)


def start(
    repo: tuple[Path, str, str], tmp_path: Path, tmp: Path, extra: list[str] = (), **env: str
) -> subprocess.Popen[str]:
    project, base, head = repo
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "analyze", "--repo", str(project), "--base", base,
         "--head", head, "--python", sys.executable, "--output", str(tmp_path / "review.md"),
         *extra],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(tmp), "MR_TEST_HOLD": str(tmp_path / "hold.json"),
             **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def held(process: subprocess.Popen[str], tmp_path: Path) -> dict:
    hold = tmp_path / "hold.json"
    deadline = time.monotonic() + 180
    while not hold.exists() or not hold.read_text():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return json.loads(hold.read_text())


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.usefixtures("pg_bin")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stop_signal_to_the_bot_stops_everything_it_started(
    repo: tuple[Path, str, str], tmp_path: Path, tmp: Path, signum: int
) -> None:
    process = start(repo, tmp_path, tmp)
    where = held(process, tmp_path)
    assert processes_using(Path(where["data"]))
    process.send_signal(signum)  # to the bot alone, as `docker stop` or `timeout` does
    _, stderr = process.communicate(timeout=90)
    assert process.returncode == 128 + signum, stderr
    assert f"interrupted by {signal.Signals(signum).name}" in stderr
    assert not alive(where["pid"]), "the collector is still running the PR's code"
    assert processes_using(tmp) == [], "a postmaster is still running"
    assert list(tmp.iterdir()) == [], "temporary folders are left"
    assert git(repo[0], "worktree", "list").count("\n") == 0, "a worktree is still registered"


@pytest.mark.usefixtures("pg_bin")
def test_a_killed_collector_has_its_cluster_stopped_and_is_reported_killed(
    repo: tuple[Path, str, str], tmp_path: Path, tmp: Path
) -> None:
    process = start(repo, tmp_path, tmp, MR_TEST_KILL="1")
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 2, stderr
    assert "the collector was killed by SIGKILL" in stderr
    assert "import the project" not in stderr
    assert processes_using(tmp) == [], "the killed collector's postmaster still runs"
    assert list(tmp.iterdir()) == []
    review = (tmp_path / "review.md").read_text()
    assert "killed by SIGKILL" in review


def databases(url: str) -> set[str]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        return {name for (name,) in connection.execute("SELECT datname FROM pg_database")}


def test_a_killed_collector_has_its_scratch_database_dropped_on_the_database_url_server(
    repo: tuple[Path, str, str], tmp_path: Path, tmp: Path, pg_url: str
) -> None:
    process = start(repo, tmp_path, tmp, ["--database-url", pg_url], MR_TEST_KILL="1")
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 2, stderr
    name = json.loads((tmp_path / "hold.json").read_text())["database"]
    assert name.startswith("mr_scratch_")
    assert "the collector was killed by SIGKILL" in stderr
    assert f"it left {name} on the --database-url server, dropped" in stderr
    assert name not in databases(pg_url)
    assert list(tmp.iterdir()) == []


def test_a_killed_collector_whose_server_is_gone_too_is_said_to_leave_its_database(
    repo: tuple[Path, str, str], tmp_path: Path, tmp: Path, pg_bin: Path
) -> None:
    with EmbeddedCluster(pg_bin) as server:
        process = start(repo, tmp_path, tmp, ["--database-url", server.url])
        where = held(process, tmp_path)
    os.kill(where["pid"], signal.SIGKILL)  # after its server, which is stopped
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 2, stderr
    assert "the collector was killed by SIGKILL" in stderr
    name = where["database"]
    assert f"could not drop the scratch database {name} on 127.0.0.1:" in stderr
    assert f'drop it by hand: DROP DATABASE "{name}"' in stderr
    assert list(tmp.iterdir()) == []


KILLING = """import json, os, signal
from pathlib import Path

from django.db import migrations


def kill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT DATABASE()")
        (database,) = cursor.fetchone()
    Path(os.environ["MR_TEST_HOLD"]).write_text(json.dumps({"database": database}))
    os.kill(os.getpid(), signal.SIGKILL)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_item_supplier")]
    operations = [migrations.RunPython(kill, migrations.RunPython.noop)]
"""


def test_a_killed_collector_has_its_scratch_database_dropped_on_mariadb(
    tmp_path: Path, tmp: Path, mysql_url: str
) -> None:
    project = tmp_path / "kiosk"
    kiosk.build_repository(project, head=["0007_item_supplier"])
    (project / "inventory" / "migrations" / "0008_kill.py").write_text(KILLING)
    head = commit(project, "kills the collector")
    extra = ["--settings", kiosk.MYSQL_SETTINGS, "--database-url", server_url(mysql_url)]
    process = start((project, "main", head), tmp_path, tmp, extra)
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 2, stderr
    name = json.loads((tmp_path / "hold.json").read_text())["database"]
    assert name.startswith("mr_scratch_")
    assert f"it left {name} on the --database-url server, dropped" in stderr
    assert name not in scratch_databases(mysql_url)
    assert list(tmp.iterdir()) == []


@pytest.mark.usefixtures("pg_bin")
def test_the_time_limit_names_the_migration_and_operation_it_stopped(
    repo: tuple[Path, str, str], tmp_path: Path, tmp: Path
) -> None:
    process = start(repo, tmp_path, tmp, extra=["--timeout", "15"])
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == 2, stderr
    # Progress as it goes: every migration, and the operation a slow one is at.
    earlier = "shop.0001_initial (earlier migration, applied first, 1 of 2)"
    assert f"migration-review: {earlier}" in stderr
    assert "migration-review: shop.0002_order_paid_at (new migration 1 of 11)" in stderr
    at = "shop.0009_hold (new migration 11 of 11), operation 1 of 1: Raw Python operation"
    assert f"migration-review: {at}" in stderr
    assert f"the collector did not finish within 15 s: it was at {at}" in stderr
    assert "--timeout" in stderr
    assert processes_using(tmp) == [] and list(tmp.iterdir()) == []
