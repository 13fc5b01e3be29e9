"""Whether an edit of a merged migration changes anything Django runs.

A migration that is already applied is never run again, so editing it matters only when the
edit changes what it does: its operations (with every argument, fields and functions included),
dependencies, ``atomic``, ``replaces``, ``initial`` or ``run_before``. Reformatting it, sorting
its imports or importing ``timedelta`` under another name does not. The version at the base
commit is loaded from its source and both are compared the way the autodetector compares
fields: by ``deconstruct()``, deeply. Functions (``RunPython``'s) compare by their compiled code,
which formatting does not change.
"""

from __future__ import annotations

import types
from typing import Any

MIGRATION_ATTRIBUTES = ("dependencies", "atomic", "replaces", "initial", "run_before")


def same_as_base(migration: Any, base_source: str | None) -> bool | None:
    """True when the base version does the same as ``migration``; None when it can't be told
    (no base source, or it does not load any more)."""
    if base_source is None:
        return None
    name = f"{type(migration).__module__}.__base__"
    module = types.ModuleType(name)
    try:
        exec(compile(base_source, f"<{name}>", "exec"), module.__dict__)
        base = module.Migration(migration.name, migration.app_label)
        return fingerprint(base) == fingerprint(migration)
    except Exception:  # the old version may import what the project no longer has
        return None


def fingerprint(migration: Any) -> Any:
    from django.db.migrations.autodetector import MigrationAutodetector
    from django.db.migrations.state import ProjectState

    detector = MigrationAutodetector(ProjectState(), ProjectState())
    parts = [list(migration.operations)]
    parts += [getattr(migration, attribute, None) for attribute in MIGRATION_ATTRIBUTES]
    return _plain(detector.deep_deconstruct(parts))


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
