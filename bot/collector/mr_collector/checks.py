"""What Django itself would refuse or write at head, whichever migration files the PR touches.

- ``conflicts``: apps with several leaf migrations; ``migrate`` refuses to run until they are
  merged (``makemigrations --merge``).
- ``missing``: what ``makemigrations --check --dry-run`` would write: models changed with no
  migration for the change. It reads no database, so it runs on every pull request. Each says
  whether it changes the schema: a migration of choices, help texts or model options alone has
  no SQL.

Both follow ``makemigrations``' own steps (its loader, questioner and autodetector), except that
nothing asks, exits or writes: a NOT NULL field without a default, which the non-interactive
questioner answers by exiting, is still listed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from . import edits


def run(output: dict[str, Any], repo_root: Path) -> None:
    """Fill ``conflicts`` and ``missing`` (raises what loading the migrations raises)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    output["conflicts"] = conflicts(loader, repo_root)
    output["missing"] = missing(loader, repo_root)


def conflicts(loader: Any, repo_root: Path) -> list[dict[str, Any]]:
    found = []
    for app_label, names in sorted(loader.detect_conflicts().items()):
        migrations = [loader.disk_migrations[(app_label, name)] for name in sorted(names)]
        found.append(
            {
                "app_label": app_label,
                "leaves": sorted(names),
                "files": [
                    _relative(sys.modules[type(m).__module__].__file__, repo_root)
                    for m in migrations
                ],
            }
        )
    return found


def _relative(path: str | None, repo_root: Path) -> str | None:
    if not path:
        return None
    try:
        return str(Path(path).resolve().relative_to(repo_root))
    except ValueError:
        return path


def missing(loader: Any, repo_root: Path) -> list[dict[str, Any]]:
    from django.apps import apps
    from django.core.management.commands.makemigrations import Command
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.state import ProjectState
    from django.db.migrations.writer import MigrationWriter

    state = loader.project_state()
    autodetector = getattr(Command, "autodetector", MigrationAutodetector)(
        state, ProjectState.from_apps(apps), _questioner()
    )
    changes = autodetector.changes(graph=loader.graph)
    found = []
    for app_label, migrations in sorted(changes.items()):
        models_module = apps.get_app_config(app_label).models_module
        for migration in migrations:
            found.append(
                {
                    "app_label": app_label,
                    "name": migration.name,
                    "path": _relative(MigrationWriter(migration).path, repo_root),
                    "models_file": _relative(getattr(models_module, "__file__", None), repo_root),
                    "operations": [operation.describe() for operation in migration.operations],
                    "changes_schema": any(
                        changes_schema(operation, app_label, state)
                        for operation in migration.operations
                    ),
                }
            )
    return found


def changes_schema(operation: Any, app_label: str, state: Any) -> bool:
    """Whether ``operation``, written against ``state``, changes the database: an AlterField of
    attributes the schema editor ignores (choices, help_text, ...) or a change of model options
    or managers does not."""
    from django.db.migrations import operations

    if isinstance(operation, operations.AlterModelOptions | operations.AlterModelManagers):
        return False
    if not isinstance(operation, operations.AlterField):
        return True
    model = state.models.get((app_label, operation.model_name_lower))
    old = model.fields.get(operation.name) if model is not None else None
    return old is None or edits.database_part(old) != edits.database_part(operation.field)


def _questioner() -> Any:
    from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
    from django.db.models import NOT_PROVIDED

    class Questioner(NonInteractiveMigrationQuestioner):
        """Answers what would make ``makemigrations`` exit as a developer leaving it for later."""

        def ask_not_null_addition(self, field_name: str, model_name: str) -> Any:
            return None

        def ask_not_null_alteration(self, field_name: str, model_name: str) -> Any:
            return NOT_PROVIDED

        def ask_auto_now_add_addition(self, field_name: str, model_name: str) -> Any:
            return None

        def ask_unique_callable_default_addition(self, field_name: str, model_name: str) -> Any:
            return None

    return Questioner(specified_apps=set(), dry_run=True)
