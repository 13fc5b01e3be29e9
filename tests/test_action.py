"""The action's files agree with each other and pass their linters.

action.yml is checked against the GitHub Action schema (check-jsonschema's built-in copy), the
Dockerfile with hadolint; every input is read by ``migration-review github`` with the same meaning
for its default, every output is written by it, and docs/action.md documents them all.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.cli import COMMANDS
from bot.github import action
from bot.github.event import INPUTS, take_token

ROOT = Path(__file__).resolve().parent.parent
ACTION_YML = ROOT / "action.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCS = ROOT / "docs" / "action.md"

# A valid value for each input, different from its default.
SAMPLE_INPUTS = {
    "working-directory": "backend",
    "settings-module": "shop.settings.ci",
    "install-command": "pip install -r requirements/ci.txt",
    "database-url": "postgresql://ci@127.0.0.1:5432/postgres",
    "pg-version": "14",
    "fail-on": "medium",
    "mode": "analyze",
    "report-path": "out/review.json",
    "sarif-path": "out/review.sarif",
    "config": "ci/migration-review.toml",
    "template-dir": "ci/templates",
    "table-stats": "ci/table-stats.json",
    "deploy": "downtime",
    "small-table-seconds": "5",
    "cache-dir": "/github/workspace/ci-cache",
    "check-run": "true",
    "timeout": "1200",
    "check-name": "migration-review (backend)",
}


def load_action(path: Path = ACTION_YML) -> dict:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def tool(name: str) -> str:
    """A linter from the test extra, next to this interpreter or on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def check_action_schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(path)],
        capture_output=True,
        text=True,
    )


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("hadolint"), "--no-color", str(path)], capture_output=True, text=True
    )


def runner_env(inputs: dict[str, str]) -> dict[str, str]:
    """The variables the runner sets for ``with:`` values: INPUT_ + upper case, dashes kept."""
    return {f"INPUT_{name.upper()}": value for name, value in inputs.items()}


def settings_for(env: dict[str, str]) -> action.Settings:
    parser = argparse.ArgumentParser()
    action.add_arguments(parser)
    return action.read_settings(parser.parse_args([]), env)


def documented(table: str) -> dict[str, str]:
    """``name -> default`` (or description) from the docs table under the given heading."""
    section = DOCS.read_text(encoding="utf-8").split(f"## {table}\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (.+?) \|", section, flags=re.MULTILINE)
    return dict(rows)


def docs_default(cell: str) -> str:
    return "" if cell == "*(empty)*" else cell.strip("`")


# --- linters ------------------------------------------------------------------------------


def test_action_yml_passes_the_github_action_schema() -> None:
    result = check_action_schema(ACTION_YML)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_action(tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    broken.write_text(ACTION_YML.read_text().replace("  image: Dockerfile\n", ""))
    result = check_action_schema(broken)
    assert result.returncode != 0
    assert "runs" in result.stdout


def test_dockerfile_is_hadolint_clean() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_careless_dockerfile(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text(
        "FROM debian:trixie-slim\nRUN apt-get update && apt-get install -y postgresql\n"
    )
    result = hadolint(careless)
    assert result.returncode != 0
    assert "DL3015" in result.stdout  # --no-install-recommends


# --- action.yml, the Dockerfile and the command agree -------------------------------------


def test_action_runs_the_image_entrypoint_on_the_github_command() -> None:
    runs = load_action()["runs"]
    assert runs == {"using": "docker", "image": "Dockerfile"}
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.match(r"(#.*\n)*FROM debian:trixie-slim\n", text)
    entrypoint = re.search(r"^ENTRYPOINT (.+)$", text, flags=re.MULTILINE)
    assert entrypoint is not None
    assert json.loads(entrypoint.group(1)) == ["migration-review", "github"]
    assert "github" in COMMANDS
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["migration-review"] == "bot.cli:main"


def test_the_image_gets_every_file_the_package_build_reads() -> None:
    """The build context holds what COPY names, and the package build finds its readme."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    copied = [
        source
        for line in re.findall(r"^COPY (.+)$", text, flags=re.MULTILINE)
        for source in line.split()[:-1]
        if not source.startswith("--")
    ]
    allowed = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    for source in copied:
        assert (ROOT / source).exists(), f"COPY {source}: no such file"
        assert source in allowed, f"COPY {source}: excluded by .dockerignore"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["readme"] in copied
    assert "bot" in copied


def test_inputs_are_kebab_case_with_descriptions() -> None:
    spec = load_action()
    for name, entry in {**spec["inputs"], **spec["outputs"]}.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
        assert entry["description"].strip(), name
    assert spec["inputs"]["github-token"]["default"] == "${{ github.token }}"


def test_every_input_is_one_the_github_command_reads() -> None:
    assert set(load_action()["inputs"]) == set(INPUTS)
    assert set(SAMPLE_INPUTS) == set(INPUTS) - {"github-token"}


@pytest.mark.parametrize("name", sorted(SAMPLE_INPUTS))
def test_each_input_changes_what_the_command_does(name: str) -> None:
    """Set as the runner sets it, every input reaches the command's settings."""
    assert settings_for(runner_env({name: SAMPLE_INPUTS[name]})) != settings_for({})


def test_the_token_input_is_taken_by_the_command() -> None:
    env = runner_env({"github-token": "ghs_from_the_input"})
    assert take_token(env) == "ghs_from_the_input"
    assert env == {}


def test_action_defaults_mean_what_the_command_does_without_them() -> None:
    """The runner always passes every input, defaults included: they must change nothing.

    A default such as ``fail-on: high`` would override the project's config file.
    """
    defaults = {
        name: str(entry.get("default", ""))
        for name, entry in load_action()["inputs"].items()
        if name not in ("github-token", "cache-dir")
    }
    assert settings_for(runner_env(defaults)) == settings_for({})


def test_the_cache_folder_is_under_the_workspace_by_default() -> None:
    """The one default that does something: a folder the workflow's actions/cache step keeps,
    which the runner passes as /github/workspace/... inside the container."""
    default = load_action()["inputs"]["cache-dir"]["default"]
    assert default == "${{ github.workspace }}/.migration-review-cache"
    workspace = default.replace("${{ github.workspace }}", "/github/workspace")
    settings = settings_for(runner_env({"cache-dir": workspace}))
    assert settings.cache_dir == Path("/github/workspace/.migration-review-cache")
    assert settings_for(runner_env({"cache-dir": ""})).cache_dir is None


def test_every_output_is_written_by_the_command() -> None:
    """The keys of the dict the github command passes to ``write_outputs``."""
    tree = ast.parse(Path(action.__file__).read_text(encoding="utf-8"))
    written = {
        key.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "write_outputs"
        for arg in node.args
        if isinstance(arg, ast.Dict)
        for key in arg.keys
        if isinstance(key, ast.Constant)
    }
    assert written == set(load_action()["outputs"])


# --- docs/action.md -----------------------------------------------------------------------


def test_docs_document_every_input_with_its_default() -> None:
    inputs = load_action()["inputs"]
    docs = documented("Inputs")
    assert list(docs) == list(inputs), "same inputs, in the same order"
    for name, entry in inputs.items():
        assert docs_default(docs[name]) == str(entry.get("default", "")), name


def test_docs_document_every_output() -> None:
    assert list(documented("Outputs")) == list(load_action()["outputs"])


def test_the_usage_example_passes_actionlint_with_the_action_inputs(tmp_path: Path) -> None:
    [example] = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    workflow = tmp_path / ".github" / "workflows" / "migration-review.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(example)
    result = subprocess.run(
        [tool("actionlint"), "-no-color", str(workflow)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    spec = load_action()
    [step] = [
        step
        for job in YAML(typ="safe").load(example)["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("django-migration-review/")
    ]
    assert set(step["with"]) <= set(spec["inputs"])
    used = set(re.findall(r"steps\.review\.outputs\.([a-z-]+)", example))
    assert used and used <= set(spec["outputs"])
