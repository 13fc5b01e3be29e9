"""Safer alternatives as Django code: the helpers every backend's advice writes its code with,
and the advice for the rules whose safer steps do not depend on the backend.

Each suggestion uses the real names of the migration under review (app label, model, field,
table, index, constraint) from its ``OperationInfo`` and the SQL it emitted. Where the collector
does not carry a detail (the exact arguments of a CheckConstraint, say), the code keeps the
user's own object and says so in a comment, rather than inventing one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from textwrap import indent

from bot.classify.rules import RULES
from bot.models import CollectedMigration, FieldInfo, OperationInfo


@dataclass
class Context:
    migration: CollectedMigration
    operation: OperationInfo | None
    sql: str

    @property
    def label(self) -> str:
        return f"{self.migration.app_label}.{self.migration.name}"

    def statements_of_operation(self) -> list[str]:
        """The SQL of every statement the operation emitted, in order: from the indexes the
        collector lists on the operation, so that a finding on each of thousands of operations
        does not read every statement of the migration."""
        if self.operation is None:
            return [self.sql]
        if self.operation.statements:
            return [self.migration.statements[i].sql for i in self.operation.statements]
        index = self.operation.index
        return [s.sql for s in self.migration.statements if s.operation == index] or [self.sql]


Advice = Callable[[Context, dict[str, str]], str | None]
"""Markdown with the safer steps for one finding, or None where it has nothing specific."""


def safer(rule_id: str, ctx: Context, values: dict[str, str], advice: Mapping[str, Advice]) -> str:
    """Markdown: the safer steps for ``rule_id`` in this migration, with code: the backend's
    ``advice``, else the advice every backend shares, else the rule's own safe example."""
    render = advice.get(rule_id) or COMMON.get(rule_id)
    text = render(ctx, values) if render else None
    if text is None:
        example = RULES[rule_id].safe
        code = f"```{example.lang}\n{example.code}\n```"
        text = f"Adapt the rule's safe form to this migration:\n\n{code}"
    elif text.lstrip().startswith("```"):
        # The comment writes "**Safer:** <text>": a fence there would not open a code block.
        text = f"The safer form:\n\n{text}"
    return text


# -- code helpers ----------------------------------------------------------------------------

THIS = "this"
"""``after=THIS``: the new migration depends on the one under review."""


def py(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def sql_block(code: str) -> str:
    return f"```sql\n{code.rstrip()}\n```"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def migration(
    ctx: Context,
    operations: list[str],
    *,
    atomic: bool = True,
    why_not_atomic: str = "CONCURRENTLY cannot run inside a transaction",
    imports: tuple[str, ...] = (),
    header: str | None = None,
    after: str | None = None,
) -> str:
    """A complete migration module.

    ``after=None``: it replaces the migration under review (same dependencies); ``THIS``: it
    comes right after it; any other text names the migration it follows.
    """
    m = ctx.migration
    if after is None:
        deps = [tuple(d) for d in m.dependencies] or [(m.app_label, "...")]
    elif after == THIS:
        deps = [(m.app_label, m.name)]
    else:
        deps = [(m.app_label, after)]
    uses_models = any("models." in op for op in operations)
    base = (
        "from django.db import migrations, models"
        if uses_models
        else ("from django.db import migrations")
    )
    lines = [f"# {header}"] if header else []
    lines += sorted({base, *imports})
    lines += ["", "", "class Migration(migrations.Migration):"]
    if not atomic:
        lines += [f"    atomic = False  # {why_not_atomic}", ""]
    lines.append("    dependencies = [")
    lines += [f"        ({app!r}, {name!r})," for app, name in deps]
    lines += ["    ]", "", "    operations = ["]
    lines += [
        indent(op.rstrip() + ("" if op.lstrip().startswith("#") else ","), " " * 8)
        for op in operations
    ]
    lines.append("    ]")
    return "\n".join(lines)


def run_sql(sql: str, reverse: str | None) -> str:
    rev = repr(reverse) if reverse else "migrations.RunSQL.noop"
    return f"migrations.RunSQL(\n    {sql!r},\n    reverse_sql={rev},\n)"


def state_and_database(state: list[str], database: list[str]) -> str:
    def block(items: list[str]) -> str:
        if not items:
            return "[]"
        body = ",\n".join(item.rstrip() for item in items)
        body = "\n".join(
            line if not line.lstrip().startswith("#") else line.rstrip(",")
            for line in body.splitlines()
        )
        return (
            "[\n"
            + indent(body + ("," if not items[-1].lstrip().startswith("#") else ""), " " * 8)
            + "\n    ]"
        )

    return (
        "migrations.SeparateDatabaseAndState(\n"
        f"    state_operations={block(state)},\n"
        f"    database_operations={block(database)},\n)"
    )


def operation_name(op: OperationInfo) -> str:
    """How a finding names an operation: a RunPython by its function, not Django's "Raw Python
    operation"."""
    if op.kind == "RunPython" and op.code:
        return f"RunPython({op.code.rsplit('.', 1)[-1]})"
    return op.describe


def original(op: OperationInfo | None) -> str:
    if op is None:
        return "# the operation from your migration, unchanged"
    return f"# your migrations.{op.kind}(...) ({op.describe}), unchanged"


def field_code(field: FieldInfo | None, **overrides: object) -> str:
    """A ``models.X(...)`` call from the field attributes the collector reports; an override of
    None or False removes the argument."""
    if field is None:
        return "...  # your field definition"
    cls = field.type.rsplit(".", 1)[-1]
    args: list[str] = []
    if field.relation:
        on_delete = (field.on_delete or "CASCADE").rsplit(".", 1)[-1]
        args += [repr(field.relation), f"on_delete=models.{on_delete}"]
    match = re.fullmatch(r"varchar\((\d+)\)", field.db_type or "")
    if match:
        args.append(f"max_length={match.group(1)}")
    match = re.fullmatch(r"numeric\((\d+),\s*(\d+)\)", field.db_type or "")
    if match:
        args.append(f"max_digits={match.group(1)}, decimal_places={match.group(2)}")
    kwargs: dict[str, str] = {}
    if field.null:
        kwargs["null"] = "True"
    if field.unique and not field.primary_key:
        kwargs["unique"] = "True"
    if field.db_index and not field.relation and not field.unique:
        kwargs["db_index"] = "True"
    if field.has_default and field.default is not None:
        kwargs["default"] = field.default
    if field.db_default:
        kwargs["db_default"] = field.db_default
    for key, value in overrides.items():
        if value is None or value is False:
            kwargs.pop(key, None)
        else:
            kwargs[key] = "True" if value is True else str(value)
    if field.relation and overrides.get("db_index") is False:
        kwargs["db_index"] = "False"  # a ForeignKey is indexed unless told otherwise
    args += [f"{key}={value}" for key, value in kwargs.items()]
    return f"models.{cls}({', '.join(args)})"


# -- the advice every backend shares ----------------------------------------------------------


def _rename_in_state(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is None or not op.model:
        return None
    if op.kind == "RenameField":
        match = re.search(r"Rename field (\S+) on \S+ to (\S+)", op.describe)
        if not match:
            return None
        old, new = match.group(1), match.group(2)
        column = values.get("column", old)
        field = field_code(op.field, db_column=repr(column))
        state = [
            f"migrations.RenameField({op.model!r}, {old!r}, {new!r})",
            f"migrations.AlterField({op.model!r}, {new!r}, {field})",
        ]
        how = (
            "Rename the field in Python only and keep the column's name with `db_column`: no "
            "SQL runs, old and new code both work."
        )
    elif op.kind in ("RenameModel", "AlterModelTable"):
        match = re.search(r"Rename model (\S+) to (\S+)", op.describe)
        table = values.get("table", "the_table")
        if not match:
            return (
                "Keep the table's name: point `Meta.db_table` at the current table instead of "
                "renaming it."
            )
        old, new = match.group(1), match.group(2)
        state = [
            f"migrations.RenameModel({old!r}, {new!r})",
            f"migrations.AlterModelTable({new.lower()!r}, {table!r})",
        ]
        how = (
            "Rename the model in Python only and keep its table with `Meta.db_table`: no SQL runs."
        )
    else:
        return None
    code = migration(ctx, [state_and_database(state, [])])
    return f"{how} Replace `{ctx.label}` with:\n\n{py(code)}"


def batched(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is not None and op.kind not in ("RunSQL", "RunPython"):
        return (
            f"Django writes this statement for `{op.describe}`. Fill the rows first in a "
            "non-atomic data migration of their own, in batches, so that this statement finds "
            "nothing left to change."
        )
    return batched_data_migration(
        ctx,
        "one batch of a few thousand rows per transaction",
        "UPDATE t SET ... WHERE pk IN (SELECT pk FROM t WHERE <not done yet> LIMIT 5000)",
    )


def batched_data_migration(ctx: Context, batches: str, example: str) -> str:
    """The statement's rows changed by a non-atomic RunPython, ``batches`` as ``example`` shows."""
    statement = " ".join(ctx.sql.split())
    forwards = f"""\
def forwards(apps, schema_editor):
    # {statement[:90]}
    # {batches}, e.g.
    #   {example}
    with schema_editor.connection.cursor() as cursor:
        while True:
            cursor.execute(...)  # one batch
            if cursor.rowcount == 0:
                break
"""
    code = migration(
        ctx,
        ["migrations.RunPython(forwards, migrations.RunPython.noop)"],
        atomic=False,
        why_not_atomic="each batch commits on its own",
        header="a data migration of its own",
    )
    code = code.replace("\n\n\nclass Migration", f"\n\n\n{forwards}\n\nclass Migration", 1)
    return py(code)


def _data_migration(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    function = (op.code if op and op.code else "forwards").rsplit(".", 1)[-1]
    code = migration(
        ctx,
        [f"migrations.RunPython({function}, migrations.RunPython.noop)"],
        atomic=False,
        why_not_atomic="each batch commits, no schema lock is held",
        header="a migration of its own",
    )
    return (
        f"Keep `{function}` apart from schema changes and make it work in batches (`.iterator()`, "
        "`bulk_update` of a few thousand rows per transaction):\n\n" + py(code)
    )


def _reverse(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is None:
        return None
    if op.kind == "RunPython":
        function = (op.code or "forwards").rsplit(".", 1)[-1]
        return py(f"migrations.RunPython({function}, migrations.RunPython.noop)")
    return py(
        "migrations.RunSQL(\n    ...,  # your SQL\n"
        "    reverse_sql=...,  # the SQL that undoes it, or migrations.RunSQL.noop\n)"
    )


def remove_field_over_two_releases(
    quote: Callable[[str], str], *, nullable_in_sql: bool = False
) -> Advice:
    """The field leaves the code first, its column in the next release (``quote`` names it in
    the backend's SQL). A NOT NULL column without a database default is made nullable in
    release 1, by an AlterField or, ``nullable_in_sql``, by its own SQL."""

    def render(ctx: Context, values: dict[str, str]) -> str | None:
        op = ctx.operation
        if op is None or op.kind != "RemoveField" or not op.model:
            return None
        table, column = values.get("table", "the_table"), values.get("column", "the_column")
        state = f"migrations.RemoveField(model_name={op.model!r}, name={op.field_name!r})"
        old = op.old_field
        needs_null = old is not None and not old.null and not old.db_default
        database = []
        if needs_null and nullable_in_sql:
            nullable = f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} DROP NOT NULL"
            database.append(run_sql(nullable, None))
        elif needs_null:
            field = field_code(old, null=True)
            database.append(f"migrations.AlterField({op.model!r}, {op.field_name!r}, {field})")
        first = migration(
            ctx,
            [state_and_database([state], database)],
            header=f"release 1, {ctx.migration.name}.py: the code forgets the field, the "
            "column stays",
        )
        drop = f"ALTER TABLE {quote(table)} DROP COLUMN {quote(column)}"
        second = migration(
            ctx,
            [run_sql(drop, None)],
            after=THIS,
            header="release 2, once no running process knows the field",
        )
        how = "drops NOT NULL" if nullable_in_sql else "makes it nullable"
        note = (
            f" The column is NOT NULL without a database default, so release 1 {how}: the new "
            "code no longer writes it."
            if needs_null
            else ""
        )
        return f"Remove the field over two releases.{note}\n\n{py(first)}\n\n{py(second)}"

    return render


def delete_model_over_two_releases(quote: Callable[[str], str], *, cascade: bool = False) -> Advice:
    """The model leaves the code first, its table in the next release (with what depends on it,
    ``cascade``)."""

    def render(ctx: Context, values: dict[str, str]) -> str | None:
        op = ctx.operation
        if op is None or op.kind != "DeleteModel" or not op.model:
            return None
        table = quote(values.get("table", "the_table")) + (" CASCADE" if cascade else "")
        first = migration(
            ctx,
            [state_and_database([f"migrations.DeleteModel({op.model!r})"], [])],
            header="release 1: the code forgets the model, the table stays",
        )
        second = migration(
            ctx,
            [run_sql(f"DROP TABLE {table}", None)],
            after=THIS,
            header="release 2: drop it (after a backup, if the rows matter)",
        )
        return f"{py(first)}\n\n{py(second)}"

    return render


def _db_default(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is None or op.field is None:
        return None
    field = op.field
    head = f"migrations.AddField(\n    model_name={op.model!r},\n    name={op.field_name!r},\n"
    nullable = head + f"    field={field_code(field, null=True)},\n)"
    constant = field.default is not None and not field.default.startswith("<")
    if not constant:
        return (
            "Its default is computed in Python, which the database cannot do for the old "
            "release's INSERTs: add the column nullable in this release,\n\n"
            + py(nullable)
            + "\n\nand make it NOT NULL in the next one, once every server writes it "
            "(fill the NULL rows first)."
        )
    in_database = field_code(field, default=None, db_default=field.default)
    in_database = head + f"    field={in_database},\n)"
    return (
        "Give the column its default in the database too (Django >= 5.0; set `db_default` on "
        "the model field as well):\n\n"
        + py(in_database)
        + "\n\nBefore Django 5.0, add it nullable in this release and make it NOT NULL in the "
        "next one, once every server writes it:\n\n" + py(nullable)
    )


def _rollback(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is not None and op.kind in ("RunPython", "RunSQL"):
        return (
            "Give it a reverse, so that `migrate "
            f"{values.get('app', ctx.migration.app_label)} {values.get('previous', 'zero')}` "
            "works; `noop` when the rows may stay as they are after a rollback:\n\n"
            + (_reverse(ctx, values) or "")
        )
    return (
        "Make the reverse work on a database at the state right after this migration: run "
        f"`python manage.py migrate {values.get('app')} {values.get('previous')}` on a copy, "
        "fix what fails, and migrate forwards again. If the change really cannot be undone, "
        "say so in the migration, and how to recover by hand."
    )


def _merge(ctx: Context, values: dict[str, str]) -> str | None:
    app = values.get("app", ctx.migration.app_label)
    leaves = [name for name in values.get("leaf_names", "").split(",") if name]
    deps = "".join(f"        ({app!r}, {name!r}),\n" for name in leaves)
    code = (
        "from django.db import migrations\n\n\nclass Migration(migrations.Migration):\n"
        f"    dependencies = [\n{deps}    ]\n\n    operations = []"
    )
    return (
        "Check that the two do not change the same models, then merge them:\n\n"
        f"```sh\npython manage.py makemigrations --merge {app}\n```\n\n"
        "which writes a merge migration with both leaves as dependencies:\n\n" + py(code)
    )


def _makemigrations(ctx: Context, values: dict[str, str]) -> str | None:
    app = values.get("app", ctx.migration.app_label)
    return (
        "Write the migration and commit it with the models' change (this review then reviews "
        f"it too):\n\n```sh\npython manage.py makemigrations {app}\n```\n\n"
        f"It writes `{values.get('path', 'the migration')}`."
    )


COMMON: dict[str, Advice] = {
    "MR-RENAME-COLUMN": _rename_in_state,
    "MR-RENAME-TABLE": _rename_in_state,
    "MR-DML-UNBOUNDED": batched,
    "MR-DML": batched,
    "MR-DATA-MIGRATION": _data_migration,
    "MR-NO-REVERSE": _reverse,
    "MR-NOT-NULL-WITHOUT-DB-DEFAULT": _db_default,
    "MR-ROLLBACK-FAILS": _rollback,
    "MR-MIGRATION-CONFLICT": _merge,
    "MR-MISSING-MIGRATION": _makemigrations,
}
