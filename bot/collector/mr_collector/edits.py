"""Whether an edit of a merged migration changes anything Django runs.

A migration that is already applied is never run again, so editing it matters only when the
edit changes what it does: its operations (with every argument, fields and functions included),
dependencies, ``atomic``, ``replaces``, ``initial`` or ``run_before``. Reformatting it, sorting
its imports or importing ``timedelta`` under another name does not. The version at the base
commit is loaded from its source and both are compared the way the autodetector compares
fields: by ``deconstruct()``, deeply. Functions (``RunPython``'s) compare by their compiled code,
which formatting does not change.

An edit that does change operations may still leave every database with the same schema: two
old migrations that added and later removed an index, both emptied (Django 5.1 dropped
``index_together``, which the first one used). ``same_end_schema`` replays the whole history
once with the base versions of every edited migration and compares the schema both histories
end with at head.
"""

from __future__ import annotations

import types
from typing import Any

MIGRATION_ATTRIBUTES = ("dependencies", "atomic", "replaces", "initial", "run_before")
GRAPH_ATTRIBUTES = ("dependencies", "replaces", "run_before")
DATABASE_ONLY = ("RunSQL", "RunPython", "SeparateDatabaseAndState")
"""Operations whose effect on the database the project state does not show."""


def same_as_base(migration: Any, base: Any) -> bool:
    """True when ``base``, the version at the merge-base, does the same as ``migration``."""
    return fingerprint(base) == fingerprint(migration)


def base_version(migration: Any, base_source: str | None) -> Any:
    """The ``Migration`` the base source defines, None when there is none or it does not load."""
    if base_source is None:
        return None
    name = f"{type(migration).__module__}.__base__"
    module = types.ModuleType(name)
    try:
        exec(compile(base_source, f"<{name}>", "exec"), module.__dict__)
        base = module.Migration(migration.name, migration.app_label)
        fingerprint(base)
    except Exception:  # the old version may import what the project no longer has
        return None
    return base


def same_end_schema(bases: dict[tuple[str, str], Any]) -> bool | None:
    """True when the history at head, run with ``bases`` (the base versions of the edited
    migrations, by key) in place of the new versions, ends with the same tables, columns,
    indexes and constraints: databases that applied the old versions and fresh ones agree.

    None when it can't be told from the project state: an edited migration is not in the
    graph, its place in it changed, or the edit touches what only the database sees (RunSQL,
    RunPython).
    """
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    graph = loader.graph
    if any(key not in graph.nodes for key in bases):
        return None
    for key, base in bases.items():
        head = graph.nodes[key]
        if _parts(base, GRAPH_ATTRIBUTES) != _parts(head, GRAPH_ATTRIBUTES):
            return None
        if _database_only(base) != _database_only(head):
            return None
    head_schema = schema(loader.project_state())
    graph.nodes.update(bases)
    return schema(loader.project_state()) == head_schema


def _parts(migration: Any, attributes: tuple[str, ...]) -> Any:
    return _deconstructed([getattr(migration, attribute, None) for attribute in attributes])


def _database_only(migration: Any) -> Any:
    return _deconstructed([op for op in migration.operations if type(op).__name__ in DATABASE_ONLY])


def schema(state: Any) -> dict[tuple[str, str], Any]:
    """What of each model the database holds: fields without their Python-only attributes
    (choices, help_text, ...), and the options that change tables (not ordering, verbose_name,
    permissions, ...). Options at their empty default count as absent."""
    from django.db.migrations.operations import AlterModelOptions

    python_only = set(AlterModelOptions.ALTER_OPTION_KEYS) - {"managed"}
    found = {}
    for key, model in state.models.items():
        fields = {name: database_part(field) for name, field in model.fields.items()}
        options = {
            name: value
            for name, value in model.options.items()
            if name not in python_only and value not in (None, (), [], set(), {})
        }
        found[key] = _deconstructed([fields, options, list(model.bases)])
    return found


def database_part(field: Any) -> Any:
    """A field as the schema editor compares it (``_field_should_be_altered``): deconstructed,
    without the attributes that never reach the database; the column name counts."""
    _, path, args, kwargs = field.deconstruct()
    python_only = set(getattr(field, "non_db_attrs", ())) - {"db_column"}
    kept = {name: value for name, value in kwargs.items() if name not in python_only}
    return _deconstructed([path, list(args), kept])


def _deconstructed(value: Any) -> Any:
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.state import ProjectState

    detector = MigrationAutodetector(ProjectState(), ProjectState())
    return _plain(detector.deep_deconstruct(value))


def fingerprint(migration: Any) -> Any:
    return _deconstructed([list(migration.operations), _parts(migration, MIGRATION_ATTRIBUTES)])


def _plain(value: Any) -> Any:
    """``deep_deconstruct``'s result with functions replaced by their compiled code."""
    if isinstance(value, types.FunctionType):
        return ("function", value.__qualname__, _code(value.__code__))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _code(code: types.CodeType) -> tuple:
    consts = tuple(_code(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.co_code, code.co_names, code.co_varnames, consts
