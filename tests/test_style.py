"""The code base stays ruff clean (lint and format, with the settings in pyproject.toml), and no
module uses another module's private names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    # ruff comes with the test extra, in the interpreter running the tests
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True
    )


@pytest.mark.parametrize("args", [("check", "."), ("format", "--check", ".")])
def test_ruff_is_clean(args: tuple[str, ...]) -> None:
    done = ruff(*args)
    assert done.returncode == 0, done.stdout + done.stderr


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = ROOT / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(path: Path) -> list[str]:
    """Where the module at ``path`` reaches for another module's private (_underscore) names:
    ``from bot.x import _y``, or ``_y`` read off an imported module (``x._y``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    modules: dict[str, str] = {}  # local name -> the project module it is bound to
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("bot", "tests", "bench"):
                    modules[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([source] if source else [])])
            if not source.startswith(("bot", "tests", "bench")):
                continue
            for alias in node.names:
                if _private(alias.name) and source != here:
                    found.append(f"{path.name}:{node.lineno}: from {source} import {alias.name}")
                elif _is_module(f"{source}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{source}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and modules[node.value.id] != here
            and _private(node.attr)
        ):
            found.append(f"{path.name}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def python_files() -> list[Path]:
    folders = [ROOT / "bot", ROOT / "tests", ROOT / "bench", ROOT / ".ci"]
    skip = ("corpus", "projects")
    return sorted(
        path
        for folder in folders
        for path in folder.rglob("*.py")
        if not any(part in skip for part in path.relative_to(ROOT).parts)
    )


def test_no_module_uses_another_modules_private_names() -> None:
    found = [use for path in python_files() for use in private_uses(path)]
    assert found == [], "\n".join(found)


def test_the_private_names_check_sees_both_forms() -> None:
    """The check itself: a private name imported, and one read off a module, are both found."""
    probe = ROOT / "tests" / "_private_names_probe.py"
    probe.write_text(
        "from bot import estimate\nfrom bot.estimate import _norm\n\nestimate._sized\n",
        encoding="utf-8",
    )
    try:
        found = private_uses(probe)
    finally:
        probe.unlink()
    assert [use.split(": ", 1)[1] for use in found] == [
        "from bot.estimate import _norm",
        "estimate._sized",
    ]
