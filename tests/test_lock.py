"""requirements.lock, what the action's image installs, satisfies pyproject.toml."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

LOCK = ROOT / "requirements.lock"


def pinned() -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", LOCK.read_text(), re.M)
    return {canonicalize_name(name): version for name, version in found}


def test_every_dependency_of_the_image_is_pinned_with_hashes_and_satisfied() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["action"]
    ]
    versions = pinned()
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in versions, f"{requirement.name} is not in requirements.lock"
        assert requirement.specifier.contains(versions[name], prereleases=True), (
            f"requirements.lock pins {name}=={versions[name]}, pyproject.toml wants {requirement}"
        )
    entries = re.split(r"\n(?=\S)", LOCK.read_text().strip())
    packages = [e for e in entries if "==" in e.splitlines()[0]]
    assert len(packages) == len(versions)
    assert all("--hash=sha256:" in e for e in packages)  # pip --require-hashes needs them all


def test_the_image_installs_from_the_lock_with_hashes() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r /tmp/src/requirements.lock" in dockerfile
    assert "pip install --no-deps /tmp/src" in dockerfile
    assert "postgresql" not in re.findall(r"apt-get install[^&]*", dockerfile)[0]
