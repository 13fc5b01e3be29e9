"""The project's review settings: ``.migration-review.toml`` or ``[tool.migration-review]``.

The file is read from the head commit under review, next to ``manage.py`` (the ``--repo``
folder), so a change to it is part of the pull request and reviewed like any other change.
Command-line options win over the file.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import Field, ValidationError

from bot.errors import ReviewError
from bot.models import Deploy, Model, Risk

CONFIG_NAME = ".migration-review.toml"


class IgnoreEntry(Model):
    """A finding the team has looked at and accepted, with the reason why."""

    rule: str = Field(description="Rule id, e.g. MR-LOCK-INDEX.")
    migration: str = Field(
        description="app_label.name of the migration; shell wildcards allowed (loans.*)."
    )
    reason: str = Field(min_length=1)


class Config(Model):
    fail_on: Risk | None = Field(None, alias="fail-on")
    settings: str | None = None
    pg_version: int | None = Field(None, alias="pg-version")
    table_stats: str | None = Field(None, alias="table-stats")
    deploy: Deploy | None = None
    small_table_seconds: float | None = Field(None, alias="small-table-seconds", ge=0)
    ignore: list[IgnoreEntry] = Field(default_factory=list)
    rules: dict[str, Risk] = Field(
        default_factory=dict,
        description='Risk per rule id for this project, e.g. MR-DROP-INDEX = "medium".',
    )


def find_config(project_dir: Path) -> Path | None:
    """``.migration-review.toml``, else a ``pyproject.toml`` with ``[tool.migration-review]``."""
    own = project_dir / CONFIG_NAME
    if own.is_file():
        return own
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file() and "migration-review" in _read_toml(pyproject).get("tool", {}):
        return pyproject
    return None


def load_config(path: Path, *, display: str | None = None) -> Config:
    """Read and validate a config file; any mistake names the file and the key at fault.

    A relative ``table-stats`` path is taken from the file's folder. ``display`` is how the file
    is named in messages and on acknowledged findings (its path in the repository rather than
    in a temporary worktree).
    """
    name = display or str(path)
    if not path.is_file():
        raise ReviewError(
            f"config file {name} does not exist",
            stage="config",
            file=name,
            hint="pass --config the path of a .migration-review.toml file",
        )
    data = _read_toml(path, display=name)
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("migration-review", {})
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ReviewError(
            f"invalid config: {problems}",
            stage="config",
            file=name,
            hint=(
                "keys are fail-on, settings, pg-version, table-stats, deploy (rolling or "
                'downtime), small-table-seconds, template-dir, [rules] (rule id = "low", '
                '"medium", ...) and [[ignore]] tables with rule, migration and a non-empty '
                "reason (see docs/configuration.md)"
            ),
        ) from exc
    for entry in config.ignore:
        if not entry.reason.strip():
            raise ReviewError(
                f"ignore of {entry.rule} on {entry.migration} has an empty reason",
                stage="config",
                file=name,
                hint='say why the finding is acceptable, e.g. reason = "loans holds 40 rows"',
            )
    if config.table_stats and not Path(config.table_stats).is_absolute():
        config.table_stats = str(path.parent / config.table_stats)
    return config


def _read_toml(path: Path, *, display: str | None = None) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ReviewError(
            f"not valid TOML: {exc}",
            stage="config",
            file=display or str(path),
            hint="fix the syntax at the line and column given",
        ) from exc
