"""What a migration operation is, in the terms the classifier needs (``OperationInfo``).

The attributes come from the model states Django itself passes to ``database_forwards``, so a
field is described as it was when the SQL was written, not as the models look today.
"""

from __future__ import annotations

from typing import Any


def dotted_path(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def describe_operation(index: int, operation: Any) -> dict[str, Any]:
    """The parts of ``OperationInfo`` known without running the operation."""
    from django.db.migrations.operations.fields import FieldOperation

    return {
        "index": index,
        "kind": type(operation).__name__,
        "path": dotted_path(operation),
        "describe": operation.describe(),
        "model": model_name(operation),
        "field_name": operation.name if isinstance(operation, FieldOperation) else None,
        "reduces_to_sql": bool(operation.reduces_to_sql),
        "reversible": bool(operation.reversible),
        "code": code(operation),
        "statements": [],
    }


def model_name(operation: Any) -> str | None:
    from django.db.migrations.operations.models import ModelOperation

    name = getattr(operation, "model_name", None)
    if name is None and isinstance(operation, ModelOperation):
        name = operation.name
    return name


def code(operation: Any) -> str | None:
    """The SQL of a RunSQL, the function name of a RunPython."""
    from django.db.migrations import RunPython, RunSQL

    if isinstance(operation, RunSQL):
        return sql_text(operation.sql)
    if isinstance(operation, RunPython):
        return f"{operation.code.__module__}.{operation.code.__qualname__}"
    return None


def sql_text(sql: Any) -> str:
    if isinstance(sql, (list, tuple)):
        return "\n".join(
            sql_text(item[0] if isinstance(item, (list, tuple)) else item) for item in sql
        )
    return str(sql)


def add_state_details(
    info: dict[str, Any],
    operation: Any,
    app_label: str,
    from_state: Any,
    to_state: Any,
    connection: Any,
) -> None:
    """Fill table, field and old_field from the states around the operation."""
    name = info["model"]
    if name is None:
        return
    before = _model(from_state, app_label, name)
    after = _model(to_state, app_label, name)
    model = before or after
    if model is not None:
        info["table"] = model._meta.db_table
    field_name = info["field_name"]
    if field_name is None:
        return
    new_name = getattr(operation, "new_name", field_name)
    info["old_field"] = field_info(_field(before, field_name), connection)
    info["field"] = field_info(_field(after, new_name), connection)


def _model(state: Any, app_label: str, name: str) -> Any:
    try:
        return state.apps.get_model(app_label, name)
    except LookupError:
        return None


def _field(model: Any, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def field_info(field: Any, connection: Any) -> dict[str, Any] | None:
    if field is None:
        return None
    from django.db.models import NOT_PROVIDED

    remote = getattr(field, "remote_field", None)
    db_default = getattr(field, "db_default", NOT_PROVIDED)
    on_delete = getattr(remote, "on_delete", None)
    return {
        "type": field.deconstruct()[1],
        "db_type": field.db_type(connection),
        "null": bool(field.null),
        "has_default": field.has_default(),
        "default": value_repr(field.default) if field.has_default() else None,
        "db_default": None if db_default is NOT_PROVIDED else value_repr(db_default),
        "unique": bool(field.unique),
        "db_index": bool(field.db_index),
        "primary_key": bool(field.primary_key),
        "relation": _label(remote.model) if remote is not None else None,
        "on_delete": getattr(on_delete, "__name__", None),
        "db_constraint": getattr(field, "db_constraint", None),
    }


def value_repr(value: Any) -> str:
    """repr() of a default, with a callable named instead of showing its address."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def _label(model: Any) -> str:
    if isinstance(model, str):
        return model
    return str(model._meta.label)
