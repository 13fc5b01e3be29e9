"""bench/report_parity.py's comparison: a changed or removed value is a difference, a field only
the head writes is listed as added, the volatile timestamp is left out."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("report_parity", ROOT / "bench" / "report_parity.py")
assert spec is not None and spec.loader is not None
parity = importlib.util.module_from_spec(spec)
spec.loader.exec_module(parity)


def write(folder: Path, name: str, data: object) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


def test_differences_and_added_fields(tmp_path: Path) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    report = {"generated_at": "1", "migrations": [{"risk": "high", "notes": ["a"]}]}
    write(base, "r.json", report)
    changed = {"generated_at": "2", "migrations": [{"risk": "low", "work": {"kind": "scan"}}]}
    write(head, "r.json", changed)
    (base / "r.md").write_text("# review\nhigh\n")
    (head / "r.md").write_text("# review\nhigh\n")
    compared, differences, added = parity.compare(base, head)
    assert compared == ["r.json", "r.md"]
    assert differences == [
        "r.json: migrations[0].notes[0] removed (was 'a')",
        "r.json: migrations[0].notes[] removed (was 1)",
        "r.json: migrations[0].risk: 'high' -> 'low'",
    ]
    assert added == ["migrations[].work.kind"]


def test_identical_reports_but_for_the_timestamp(tmp_path: Path) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    write(base, "r.json", {"generated_at": "1", "risk": "high"})
    write(head, "r.json", {"generated_at": "2", "risk": "high"})
    (head / "extra.md").write_text("x")
    assert parity.compare(base, head)[1:] == (["extra.md: only in head"], [])
