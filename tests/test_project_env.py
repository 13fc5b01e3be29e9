"""The project's own virtual environment: real venvs, real pip, a tiny local project.

Packages come from the package index pip is configured with (a local mirror here); the project's
own code is a local path, so nothing in these tests depends on a particular remote package.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from bot.errors import ReviewError
from bot.project_env import detect_install, prepare_project_python

SECRET = "ghs_project_env_test_secret"


def write_package(folder: Path, name: str, dependencies: list[str] | None = None) -> Path:
    """A minimal installable package whose module reports its own name."""
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{name}"
            version = "1.0"
            dependencies = {json.dumps(dependencies or [])}

            [tool.setuptools]
            py-modules = ["{name}"]
            """
        )
    )
    (folder / f"{name}.py").write_text(f"NAME = {name!r}\n")
    return folder


def importable(python: str, *modules: str) -> dict[str, bool]:
    probe = (
        "import importlib.util, json, sys\n"
        "print(json.dumps({m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}))"
    )
    out = subprocess.run(
        [python, "-I", "-c", probe, *modules], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_requirements_txt_goes_into_an_isolated_venv(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_package(project / "libs" / "tinydep", "tinydep")
    (project / "requirements.txt").write_text("Django>=5.2\n./libs/tinydep\n")

    python = prepare_project_python(project, None, venv_dir=tmp_path / "venv")

    assert Path(python) == tmp_path / "venv" / "bin" / "python"
    found = importable(python, "tinydep", "django", "psycopg", "pglast", "bot")
    # the project's requirements, plus the driver the collector needs (requirements lack one);
    # none of the bot's own packages leak in
    assert found == {
        "tinydep": True,
        "django": True,
        "psycopg": True,
        "pglast": False,
        "bot": False,
    }


def test_packaged_project_is_installed_and_collector_needs_added(tmp_path: Path) -> None:
    project = write_package(tmp_path / "project", "tinyproj")

    python = prepare_project_python(project, "", venv_dir=tmp_path / "venv")

    assert importable(python, "tinyproj", "django", "psycopg") == {
        "tinyproj": True,
        "django": True,
        "psycopg": True,
    }


def test_install_command_runs_in_the_venv_without_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    write_package(project / "vendor" / "tinydep", "tinydep")
    (project / "requirements.txt").write_text("this-file-must-not-be-used==0\n")
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    monkeypatch.setenv("INPUT_GITHUB-TOKEN", SECRET)
    monkeypatch.setenv("DEPLOY_AUTH", SECRET)  # the token copied under a name that hides it
    command = "pip install -q ./vendor/tinydep && env > env.txt && command -v python > which.txt"

    python = prepare_project_python(project, command, venv_dir=tmp_path / "venv")

    assert importable(python, "tinydep", "django")["tinydep"]
    assert (project / "which.txt").read_text().strip() == python
    env = (project / "env.txt").read_text()
    assert f"VIRTUAL_ENV={tmp_path / 'venv'}" in env
    assert SECRET not in env
    assert "GITHUB_TOKEN" not in env


def test_a_kept_cache_dir_installs_the_next_run_from_uvs_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    write_package(project / "libs" / "tinydep", "tinydep", ["sqlparse>=0.5"])
    requirements = "Django>=5.2\npsycopg[binary]>=3.1.8\n./libs/tinydep\n"
    (project / "requirements.txt").write_text(requirements)
    cache = tmp_path / "cache"
    prepare_project_python(project, None, venv_dir=tmp_path / "first", cache_dir=cache)
    assert any((cache / "uv").iterdir())

    monkeypatch.setenv("UV_OFFLINE", "1")  # the index is out of reach: only the cache can serve
    python = prepare_project_python(project, None, venv_dir=tmp_path / "second", cache_dir=cache)
    assert importable(python, "tinydep", "django", "psycopg", "sqlparse") == dict.fromkeys(
        ["tinydep", "django", "psycopg", "sqlparse"], True
    )
    empty = tmp_path / "empty-cache"
    with pytest.raises(ReviewError):  # the same, offline, without the cache: nothing to install
        prepare_project_python(project, None, venv_dir=tmp_path / "third", cache_dir=empty)


def test_failed_requirements_name_the_file_and_show_pip_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("./libs/not-there\n")
    monkeypatch.chdir(project)

    with pytest.raises(ReviewError) as caught:
        prepare_project_python(project, None, venv_dir=tmp_path / "venv")

    error = caught.value.error
    assert error.stage == "collect"
    assert error.file == "requirements.txt"
    assert "uv pip install -r requirements.txt" in error.message
    assert "error:" in error.message and "not-there" in error.message
    assert "install-command" in (error.hint or "")
    assert "not-there" in (error.detail or "")


def test_failed_install_command_shows_its_output(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()

    with pytest.raises(ReviewError) as caught:
        prepare_project_python(
            project, "echo 'no such thing: poetry' >&2; exit 3", venv_dir=tmp_path / "venv"
        )

    error = caught.value.error
    assert error.stage == "collect"
    assert "exit code 3" in error.message
    assert "no such thing: poetry" in error.message


def test_detect_prefers_requirements_txt(tmp_path: Path) -> None:
    write_package(tmp_path / "p", "p")
    (tmp_path / "p" / "requirements.txt").write_text("Django\n")
    assert detect_install(tmp_path / "p") == (["-r", "requirements.txt"], "requirements.txt")


def test_detect_installs_a_packaged_pyproject(tmp_path: Path) -> None:
    write_package(tmp_path / "p", "p")
    assert detect_install(tmp_path / "p") == (["."], "pyproject.toml")


def test_detect_skips_a_settings_only_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert detect_install(tmp_path) is None
    assert detect_install(tmp_path / "missing") is None


def test_detect_reports_a_broken_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\n")
    with pytest.raises(ReviewError) as caught:
        detect_install(tmp_path)
    assert caught.value.error.file == str(tmp_path / "pyproject.toml")
    assert "install-command" in (caught.value.error.hint or "")
