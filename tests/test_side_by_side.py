"""bench/side_by_side.py's rows: a command that fails is a failed row in the table, never a time,
unless its exit code is one of the verdicts the row accepts (the tool's and the linter's 1)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("side_by_side", ROOT / "bench" / "side_by_side.py")
assert spec is not None and spec.loader is not None
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

CRASH = [sys.executable, "-c", "raise KeyError(('extras', 'cachedvalue'))"]
VERDICT = [sys.executable, "-c", "raise SystemExit(1)"]


def test_a_traceback_is_a_failed_row(capsys: pytest.CaptureFixture[str]) -> None:
    crashed = bench.measure(CRASH)
    assert crashed.failure == "exit 1: KeyError: ('extras', 'cachedvalue')"
    bench.print_table("p", {"warm floor: render + apply": crashed}, [])
    table = capsys.readouterr().out
    assert "| warm floor: render + apply | **failed** (exit 1: KeyError" in table
    assert f"{crashed.seconds:.2f} s" not in table


def test_an_accepted_verdict_is_a_time() -> None:
    assert bench.measure(VERDICT, ok=(0, 1)).failure is None
    assert bench.measure(VERDICT).failure == "exit 1"


def test_one_failed_run_fails_the_median_and_the_ratios_skip_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    commands = iter([[sys.executable, "-c", "pass"], CRASH, [sys.executable, "-c", "pass"]])
    row = bench.median(3, lambda: bench.measure(next(commands)))
    assert row.failure is not None and "KeyError" in row.failure
    fine = bench.measure([sys.executable, "-c", "pass"])
    bench.print_table("p", {"warm floor": row, "tool warm": fine}, [])
    table = capsys.readouterr().out
    # No ratio against a floor that did not run.
    assert f"| tool warm | {fine.seconds:.2f} s |  |" in table
