"""SQLite's safer alternatives: keep the rewrite short, or avoid it where SQLite can."""

from __future__ import annotations

from bot.classify import advice
from bot.classify.advice import Advice, Context


def _sqlite_rewrite(ctx: Context, values: dict[str, str]) -> str:
    op = ctx.operation
    if op is not None and op.kind == "AddField":
        field = advice.field_code(op.field, null=True, default=None, db_default=None)
        add = advice.migration(
            ctx, [f"migrations.AddField({op.model!r}, {op.field_name!r}, {field})"]
        )
        return (
            "SQLite adds a nullable column without a default in place, without the copy; fill "
            f"it from the code, or in batches:\n\n{advice.py(add)}"
        )
    return (
        "SQLite has no online way to change a table: keep the migration to this one change, "
        "so the lock ends as soon as it is done, and run it when writes can wait (a "
        "maintenance window, the application's writers paused)."
    )


def _sqlite_index(ctx: Context, values: dict[str, str]) -> str:
    return (
        "SQLite builds indexes only under the write lock: put the index in a migration of its "
        "own and run it when writes can wait."
    )


ADVICE: dict[str, Advice] = {
    "MR-SQLITE-REWRITE": _sqlite_rewrite,
    "MR-SQLITE-INDEX": _sqlite_index,
    "MR-DROP-COLUMN": advice.remove_field_over_two_releases(advice.ident),
    "MR-DROP-TABLE": advice.delete_model_over_two_releases(advice.ident),
}
