"""The release: a workflow that pushes the image to GHCR on a version tag and moves the tag to a
commit whose action.yml runs that image (``.ci/pin-image.sh``); main keeps the Dockerfile."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ruamel.yaml import YAML

from tests.conftest import ROOT
from tests.test_action import ACTION_YML, check_action_schema, load_action, tool

RELEASE = ROOT / ".github" / "workflows" / "release.yml"
PIN = ROOT / ".ci" / "pin-image.sh"
IMAGE = "docker://ghcr.io/acme/django-migration-review:1.2.3"


def pin(image: str, action: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(PIN), image, str(action)], capture_output=True, text=True)


def test_the_release_workflow_passes_actionlint() -> None:
    done = subprocess.run([tool("actionlint"), str(RELEASE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_release_runs_on_version_tags_and_pins_the_image_it_pushed() -> None:
    flow = YAML(typ="safe").load(RELEASE.read_text())
    assert flow["on"]["push"]["tags"] == ["v[0-9]+.[0-9]+.[0-9]+"]
    assert flow["permissions"] == {"contents": "write", "packages": "write"}
    steps = flow["jobs"]["image"]["steps"]
    build = next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action"))
    assert build["with"]["push"] is True
    pinning = steps[-1]["run"]
    assert 'bash .ci/pin-image.sh "docker://$IMAGE"' in pinning
    assert "git push -f origin" in pinning


def test_main_builds_the_dockerfile() -> None:
    assert load_action()["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_pinning_gives_a_valid_action_that_runs_the_image(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    shutil.copy(ACTION_YML, action)
    done = pin(IMAGE, action)
    assert done.returncode == 0, done.stderr
    assert load_action(action)["runs"] == {"using": "docker", "image": IMAGE}
    assert load_action(action)["inputs"] == load_action()["inputs"]
    schema = check_action_schema(action)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    again = pin(IMAGE, action)  # nothing left to pin: a second run must not pass silently
    assert again.returncode == 2 and "expected 1" in again.stderr


def test_pinning_refuses_what_is_not_an_image_reference(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    shutil.copy(ACTION_YML, action)
    done = pin("ghcr.io/acme/django-migration-review", action)
    assert done.returncode == 2 and "docker://" in done.stderr
    assert action.read_text() == ACTION_YML.read_text()
