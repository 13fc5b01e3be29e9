"""What a migration leaves behind, captured so that two ways of writing it can be compared.

The schema is read from PostgreSQL's catalog for every user table: columns (type, NOT NULL,
default), constraints (definition and whether they are validated) and indexes (definition and
whether they are valid). Django's side is the project state of every model, each field written
as ``makemigrations`` would write it. Both are plain JSON, comparable across processes.
"""

from __future__ import annotations

from typing import Any

COLUMNS_SQL = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attgenerated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
  AND n.nspname = current_schema() AND c.relname <> 'django_migrations'
ORDER BY c.relname, a.attname
"""
CONSTRAINTS_SQL = """
SELECT c.relname, co.conname, pg_get_constraintdef(co.oid), co.convalidated
FROM pg_constraint co
JOIN pg_class c ON c.oid = co.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relname <> 'django_migrations'
ORDER BY c.relname, co.conname
"""
INDEXES_SQL = """
SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid), x.indisvalid
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema() AND t.relname <> 'django_migrations'
ORDER BY t.relname, i.relname
"""


def schema(cursor: Any) -> dict[str, dict[str, Any]]:
    """Every user table: {"columns": {...}, "constraints": {...}, "indexes": {...}}."""
    tables: dict[str, dict[str, Any]] = {}

    def table(name: str) -> dict[str, Any]:
        return tables.setdefault(name, {"columns": {}, "constraints": {}, "indexes": {}})

    cursor.execute(COLUMNS_SQL)
    for relname, column, type_, not_null, default, generated in cursor.fetchall():
        table(relname)["columns"][column] = {
            "type": type_,
            "null": not not_null,
            "default": default,
            "generated": generated or None,
        }
    cursor.execute(CONSTRAINTS_SQL)
    for relname, name, definition, validated in cursor.fetchall():
        table(relname)["constraints"][name] = {"definition": definition, "validated": validated}
    cursor.execute(INDEXES_SQL)
    for relname, name, definition, valid in cursor.fetchall():
        table(relname)["indexes"][name] = {"definition": definition, "valid": valid}
    return tables


def partitioned(cursor: Any) -> list[str]:
    """The partitioned parent tables: CONCURRENTLY cannot build their indexes."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'p' AND n.nspname = current_schema() ORDER BY 1"
    )
    return [name for (name,) in cursor.fetchall()]


def state(project_state: Any) -> dict[str, dict[str, Any]]:
    """Every model of a ``ProjectState``: fields as ``makemigrations`` writes them, and options."""
    from django.db.migrations.writer import MigrationWriter

    def code(value: Any) -> str:
        return MigrationWriter.serialize(value)[0]

    models: dict[str, dict[str, Any]] = {}
    for (app_label, name), model in sorted(project_state.models.items()):
        models[f"{app_label}.{name}"] = {
            "fields": {field_name: code(field) for field_name, field in model.fields.items()},
            "options": {key: code(value) for key, value in sorted(model.options.items())},
            "bases": code(model.bases),
        }
    return models


def differences(expected: dict[str, Any], actual: dict[str, Any], path: str = "") -> list[str]:
    """Where ``actual`` differs from ``expected``, one line each, as ``table.part.name: a != b``."""
    found: list[str] = []
    for key in sorted(set(expected) | set(actual), key=str):
        where = f"{path}.{key}" if path else str(key)
        if key not in actual:
            found.append(f"{where}: missing")
        elif key not in expected:
            found.append(f"{where}: not in the original")
        elif isinstance(expected[key], dict) and isinstance(actual[key], dict):
            found += differences(expected[key], actual[key], where)
        elif expected[key] != actual[key]:
            found.append(f"{where}: {actual[key]!r}, the original has {expected[key]!r}")
    return found
