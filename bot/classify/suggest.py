"""Safer alternatives, written as the Django migration code to paste.

Each suggestion uses the real names of the migration under review (app label, model, field,
table, index, constraint) from its ``OperationInfo`` and the SQL it emitted. Where the collector
does not carry a detail (the exact arguments of a CheckConstraint, say), the code keeps the
user's own object and says so in a comment, rather than inventing one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from textwrap import indent

from pglast import ast, parse_sql
from pglast.parser import ParseError

from bot.classify.postgres import deparse
from bot.classify.rules import RULES
from bot.models import CollectedMigration, FieldInfo, OperationInfo


@dataclass
class Context:
    migration: CollectedMigration
    operation: OperationInfo | None
    sql: str
    pg_version: int

    @property
    def label(self) -> str:
        return f"{self.migration.app_label}.{self.migration.name}"

    def statements_of_operation(self) -> list[str]:
        """The SQL of every statement the operation emitted, in order."""
        if self.operation is None:
            return [self.sql]
        index = self.operation.index
        return [s.sql for s in self.migration.statements if s.operation == index] or [self.sql]


def safer(rule_id: str, ctx: Context, values: dict[str, str]) -> str:
    """Markdown: the safer steps for ``rule_id`` in this migration, with code."""
    render = _RENDERERS.get(rule_id)
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


def _py(code: str) -> str:
    return f"```python\n{code.rstrip()}\n```"


def _sql_block(code: str) -> str:
    return f"```sql\n{code.rstrip()}\n```"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _migration(
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


def _run_sql(sql: str, reverse: str | None) -> str:
    rev = repr(reverse) if reverse else "migrations.RunSQL.noop"
    return f"migrations.RunSQL(\n    {sql!r},\n    reverse_sql={rev},\n)"


def _state_and_database(state: list[str], database: list[str]) -> str:
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


def _original(op: OperationInfo | None) -> str:
    if op is None:
        return "# the operation from your migration, unchanged"
    return f"# your migrations.{op.kind}(...) ({op.describe}), unchanged"


def _field_code(field: FieldInfo | None, **overrides: object) -> str:
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


def _node(sql: str) -> ast.Node | None:
    try:
        nodes = parse_sql(sql)
    except ParseError:
        return None
    return nodes[0].stmt if nodes else None


def _concurrently(sql: str) -> str | None:
    """``sql`` (a CREATE INDEX) with CONCURRENTLY, keeping Django's own quoting."""
    text = sql.strip().rstrip(";")
    result = re.sub(
        r"^(CREATE\s+(?:UNIQUE\s+)?INDEX)\s+(?!CONCURRENTLY)",
        r"\1 CONCURRENTLY ",
        text,
        count=1,
        flags=re.IGNORECASE,
    )
    return result if result != text else None


def _describe_fields(op: OperationInfo) -> list[str] | None:
    match = re.search(r"on field\(s\) (.+?) of model", op.describe)
    return [f.strip() for f in match.group(1).split(",")] if match else None


# -- renderers -------------------------------------------------------------------------------


def _concurrent_index(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is not None and op.kind == "AddIndex" and op.model:
        fields = _describe_fields(op)
        name = values.get("index", "the_index")
        index = (
            f"models.Index(fields={fields!r}, name={name!r}),"
            if fields
            else "...,  # the models.Index(...) of your AddIndex, unchanged"
        )
        code = _migration(
            ctx,
            [f"AddIndexConcurrently(\n    model_name={op.model!r},\n    index={index}\n)"],
            atomic=False,
            imports=("from django.contrib.postgres.operations import AddIndexConcurrently",),
        )
        return (
            "Build the index without blocking writes: `AddIndexConcurrently` takes the same "
            f"arguments as `AddIndex`. Replace `{ctx.label}` with:\n\n{_py(code)}"
        )
    creates = []
    for sql in ctx.statements_of_operation():
        node = _node(sql)
        concurrent = _concurrently(sql) if isinstance(node, ast.IndexStmt) else None
        if concurrent and node is not None:
            drop = f"DROP INDEX CONCURRENTLY IF EXISTS {_ident(node.idxname or 'the_index')}"
            creates.append(_run_sql(concurrent, drop))
    if not creates:
        return None
    if op is None or op.kind == "RunSQL":
        code = _migration(ctx, creates, atomic=False)
        return "Add `CONCURRENTLY` and run it from a non-atomic migration of its own:\n\n" + _py(
            code
        )
    steps = []
    if op.kind == "AddField":
        field = _field_code(op.field, db_index=False, unique=False)
        first = _migration(
            ctx,
            [
                f"migrations.AddField(\n    model_name={op.model!r},\n    name={op.field_name!r},"
                f"\n    field={field},\n)"
            ],
            header=f"{ctx.migration.name}.py: the column alone, without its index (instant)",
        )
        steps.append(_py(first))
        state = (
            f"migrations.AlterField(\n    model_name={op.model!r},\n    name={op.field_name!r},\n"
            f"    field={_field_code(op.field)},\n)"
        )
    else:
        state = _original(op)
    second = _migration(
        ctx,
        [_state_and_database([state], creates)],
        atomic=False,
        after=THIS if op.kind == "AddField" else None,
        header="the index, built concurrently by a non-atomic migration",
    )
    steps.append(_py(second))
    return (
        "Keep Django's state change, but build the index with `CONCURRENTLY`, outside a "
        "transaction:\n\n" + "\n\n".join(steps)
    )


def _unique_using_index(ctx: Context, values: dict[str, str]) -> str | None:
    table = values.get("table", "the_table")
    constraint = values.get("constraint", "the_constraint")
    columns = values.get("column", "")
    if not columns:
        return (
            "An EXCLUDE constraint cannot be attached from a prebuilt index: add it while the "
            "table is small, or in a maintenance window."
        )
    cols = ", ".join(_ident(c) for c in columns.split(","))
    create = f"CREATE UNIQUE INDEX CONCURRENTLY {_ident(constraint)} ON {_ident(table)} ({cols})"
    attach = (
        f"ALTER TABLE {_ident(table)} ADD CONSTRAINT {_ident(constraint)} "
        f"UNIQUE USING INDEX {_ident(constraint)}"
    )
    database = [
        _run_sql(create, f"DROP INDEX CONCURRENTLY IF EXISTS {_ident(constraint)}"),
        _run_sql(attach, f"ALTER TABLE {_ident(table)} DROP CONSTRAINT {_ident(constraint)}"),
    ]
    code = _migration(
        ctx, [_state_and_database([_original(ctx.operation)], database)], atomic=False
    )
    return (
        "Build the unique index concurrently, then attach it as the constraint (a brief ACCESS "
        f"EXCLUSIVE lock, no scan). Replace `{ctx.label}` with:\n\n{_py(code)}"
    )


def _check_not_valid(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    constraint = values.get("constraint", "the_constraint")
    if op is None or op.kind != "AddConstraint" or not op.model:
        return None
    first = _migration(
        ctx,
        [
            f"AddConstraintNotValid(\n    model_name={op.model!r},\n"
            "    constraint=...,  # the CheckConstraint of your AddConstraint, unchanged\n)"
        ],
        imports=("from django.contrib.postgres.operations import AddConstraintNotValid",),
        header=f"{ctx.migration.name}.py: instant, new rows are checked from now on",
    )
    second = _migration(
        ctx,
        [f"ValidateConstraint(model_name={op.model!r}, name={constraint!r})"],
        imports=("from django.contrib.postgres.operations import ValidateConstraint",),
        after=THIS,
        header="the next migration: scans under SHARE UPDATE EXCLUSIVE, traffic goes on",
    )
    return f"{_py(first)}\n\n{_py(second)}"


def _foreign_key_not_valid(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    table = values.get("table", "the_table")
    constraint = values.get("constraint", "the_fk")
    if op is not None and op.kind in ("RenameModel", "AlterModelTable"):
        return (
            f"`{op.describe}` drops and re-adds, validated, every foreign key pointing at the "
            "table. Keep the table's name instead (see MR-RENAME-TABLE): then no foreign key is "
            "touched."
        )
    node = _node(ctx.sql.split(";")[-1] if ctx.sql.count(";") > 1 else ctx.sql)
    if not isinstance(node, ast.AlterTableStmt):
        return None
    for cmd in node.cmds:
        if isinstance(cmd.def_, ast.Constraint) and cmd.def_.conname == constraint:
            cmd.def_.skip_validation = True
            cmd.def_.initially_valid = False
    node.cmds = tuple(c for c in node.cmds if isinstance(c.def_, ast.Constraint))
    add = deparse(node)
    drop = f"ALTER TABLE {_ident(table)} DROP CONSTRAINT {_ident(constraint)}"
    validate = f"ALTER TABLE {_ident(table)} VALIDATE CONSTRAINT {_ident(constraint)}"
    first = _migration(
        ctx,
        [_state_and_database([_original(op)], [_run_sql(add, drop)])],
        header=f"{ctx.migration.name}.py: NOT VALID, a brief lock and no scan",
    )
    second = _migration(
        ctx,
        [_run_sql(validate, None)],
        after=THIS,
        header="the next migration: validates without blocking writes",
    )
    return f"{_py(first)}\n\n{_py(second)}"


def _not_null_via_check(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    table = values.get("table", "the_table")
    column = values.get("column", "the_column")
    name = f"{table}_{column}_not_null"[:63]
    if ctx.pg_version < 12:
        return (
            f"PostgreSQL {ctx.pg_version} cannot use a CHECK constraint to skip the scan (12+ "
            "can): run this while the table is small or in a maintenance window, or upgrade."
        )
    if op is None or not op.model:
        return _sql_block(
            f"ALTER TABLE {_ident(table)} ADD CONSTRAINT {_ident(name)} "
            f"CHECK ({_ident(column)} IS NOT NULL) NOT VALID;\n"
            f"ALTER TABLE {_ident(table)} VALIDATE CONSTRAINT {_ident(name)};\n"
            f"ALTER TABLE {_ident(table)} ALTER COLUMN {_ident(column)} SET NOT NULL;  -- no scan\n"
            f"ALTER TABLE {_ident(table)} DROP CONSTRAINT {_ident(name)};"
        )
    field = op.field_name or column
    check = (
        f"models.CheckConstraint(\n        condition=models.Q({field}__isnull=False), "
        f"name={name!r}\n    )"
    )
    first = _migration(
        ctx,
        [f"AddConstraintNotValid(\n    model_name={op.model!r},\n    constraint={check},\n)"],
        imports=("from django.contrib.postgres.operations import AddConstraintNotValid",),
        header=f"1. {ctx.migration.name}.py: instant, the CHECK applies to new rows",
    )
    second = _migration(
        ctx,
        [f"ValidateConstraint(model_name={op.model!r}, name={name!r})"],
        imports=("from django.contrib.postgres.operations import ValidateConstraint",),
        after=THIS,
        header="2. validates under SHARE UPDATE EXCLUSIVE: traffic goes on",
    )
    third = _migration(
        ctx,
        [_original(op), f"migrations.RemoveConstraint(model_name={op.model!r}, name={name!r})"],
        after="<migration 2>",
        header="3. SET NOT NULL finds the validated CHECK and skips its scan",
    )
    backfill = (
        " Fill the NULL rows before step 2 (a non-atomic data migration, in batches): "
        "Django's own UPDATE would otherwise run under the ACCESS EXCLUSIVE lock."
        if len(ctx.statements_of_operation()) > 1
        else ""
    )
    return (
        f"From PostgreSQL 12, a validated `CHECK ({column} IS NOT NULL)` lets SET NOT NULL skip "
        f"its scan. Three migrations:{backfill}\n\n{_py(first)}\n\n{_py(second)}\n\n{_py(third)}"
    )


def _nullable_then_backfill(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is None or op.kind != "AddField" or not op.model:
        return None
    model = op.model
    field = op.field_name or values.get("column", "the_field")
    app = ctx.migration.app_label
    add = _migration(
        ctx,
        [
            f"migrations.AddField(\n    model_name={model!r},\n    name={field!r},\n"
            f"    field={_field_code(op.field, null=True, db_default=None, default=None)},\n)"
        ],
        header=f"1. {ctx.migration.name}.py: instant, a nullable column without a default",
    )
    backfill = f"""\
def backfill(apps, schema_editor):
    Model = apps.get_model({app!r}, {model!r})
    while True:
        with transaction.atomic():
            batch = list(
                Model.objects.filter({field}__isnull=True).values_list("pk", flat=True)[:5000]
            )
            if not batch:
                break
            for obj in Model.objects.filter(pk__in=batch):
                obj.{field} = ...  # the value your default computes
                obj.save(update_fields=[{field!r}])
"""
    second = _migration(
        ctx,
        ["migrations.RunPython(backfill, migrations.RunPython.noop)"],
        atomic=False,
        why_not_atomic="each batch commits on its own",
        imports=("from django.db import transaction",),
        header="2. the existing rows, in batches",
        after=THIS,
    )
    second = second.replace("\n\n\nclass Migration", f"\n\n\n{backfill}\n\nclass Migration", 1)
    return (
        "Add the column without the default, fill the existing rows in batches, then set the "
        "default for new rows and NOT NULL in later migrations (MR-SET-NOT-NULL shows NOT NULL "
        f"without a scan):\n\n{_py(add)}\n\n{_py(second)}"
    )


def _type_change(ctx: Context, values: dict[str, str]) -> str | None:
    old = values.get("old_type", "")
    new = values.get("new_type", "")
    table = values.get("table", "the_table")
    column = values.get("column", "the_column")
    old_len = re.fullmatch(r"varchar\((\d+)\)", old)
    new_len = re.fullmatch(r"varchar\((\d+)\)", new)
    if old_len and new_len and int(new_len.group(1)) < int(old_len.group(1)):
        name = _ident(f"{table}_{column}_length"[:63])
        return (
            "Shortening a varchar rewrites the table; a CHECK constraint enforces the limit "
            "without a rewrite, validated without blocking traffic:\n\n"
            + _sql_block(
                f"ALTER TABLE {_ident(table)} ADD CONSTRAINT {name} "
                f"CHECK (char_length({_ident(column)}) <= {new_len.group(1)}) NOT VALID;\n"
                f"ALTER TABLE {_ident(table)} VALIDATE CONSTRAINT {name};"
            )
        )
    op = ctx.operation
    model = op.model if op and op.model else "the_model"
    field = op.field if op else None
    return (
        f"Changing {old or 'the type'} to {new or 'the new type'} copies every row. Over "
        "several releases, without a rewrite under lock:\n"
        f"1. add a nullable column `{column}_new` of the new type (instant);\n"
        "2. write both columns from the application, backfill the old rows in batches;\n"
        "3. switch reads to the new column, then drop the old one in a later release.\n\n"
        + _py(
            _migration(
                ctx,
                [
                    f"migrations.AddField(\n    model_name={model!r},\n"
                    f"    name={column + '_new'!r},\n    field={_field_code(field, null=True)},\n)"
                ],
                header="step 1",
            )
        )
    )


def _remove_state_first(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    table = values.get("table", "the_table")
    column = values.get("column", "the_column")
    if op is None or op.kind != "RemoveField" or not op.model:
        return None
    state = f"migrations.RemoveField(model_name={op.model!r}, name={op.field_name!r})"
    old = op.old_field
    needs_null = old is not None and not old.null and not old.db_default
    database = (
        [_run_sql(f"ALTER TABLE {_ident(table)} ALTER COLUMN {_ident(column)} DROP NOT NULL", None)]
        if needs_null
        else []
    )
    first = _migration(
        ctx,
        [_state_and_database([state], database)],
        header=f"release 1, {ctx.migration.name}.py: the code forgets the field, the column stays",
    )
    second = _migration(
        ctx,
        [_run_sql(f"ALTER TABLE {_ident(table)} DROP COLUMN {_ident(column)}", None)],
        after=THIS,
        header="release 2, once no running process knows the field",
    )
    note = (
        " The column is NOT NULL without a database default, so release 1 drops NOT NULL: the "
        "new code no longer writes it."
        if needs_null
        else ""
    )
    return f"Remove the field over two releases.{note}\n\n{_py(first)}\n\n{_py(second)}"


def _delete_state_first(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    table = values.get("table", "the_table")
    if op is None or op.kind != "DeleteModel" or not op.model:
        return None
    first = _migration(
        ctx,
        [_state_and_database([f"migrations.DeleteModel({op.model!r})"], [])],
        header="release 1: the code forgets the model, the table stays",
    )
    second = _migration(
        ctx,
        [_run_sql(f"DROP TABLE {_ident(table)} CASCADE", None)],
        after=THIS,
        header="release 2: drop it (after a backup, if the rows matter)",
    )
    return f"{_py(first)}\n\n{_py(second)}"


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
        field = _field_code(op.field, db_column=repr(column))
        state = [
            f"migrations.RenameField({op.model!r}, {old!r}, {new!r})",
            f"migrations.AlterField({op.model!r}, {new!r}, {field})",
        ]
        code = _migration(ctx, [_state_and_database(state, [])])
        return (
            "Rename the field in Python only and keep the column's name with `db_column`: no "
            f"SQL runs, old and new code both work. Replace `{ctx.label}` with:\n\n{_py(code)}"
        )
    if op.kind in ("RenameModel", "AlterModelTable"):
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
        code = _migration(ctx, [_state_and_database(state, [])])
        return (
            "Rename the model in Python only and keep its table with `Meta.db_table`: no SQL "
            f"runs. Replace `{ctx.label}` with:\n\n{_py(code)}"
        )
    return None


def _drop_index_concurrently(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    index = values.get("index", "the_index")
    if op is not None and op.kind == "RemoveIndex" and op.model:
        code = _migration(
            ctx,
            [f"RemoveIndexConcurrently(model_name={op.model!r}, name={index!r})"],
            atomic=False,
            imports=("from django.contrib.postgres.operations import RemoveIndexConcurrently",),
        )
        return f"Replace `{ctx.label}` with:\n\n{_py(code)}"
    drops = [
        _run_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {_ident(node.objects[0][-1].sval)}", None)
        for node in map(_node, ctx.statements_of_operation())
        if isinstance(node, ast.DropStmt) and node.objects
    ] or [_run_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {_ident(index)}", None)]
    code = _migration(ctx, [_state_and_database([_original(op)], drops)], atomic=False)
    return f"Drop it concurrently, outside a transaction:\n\n{_py(code)}"


def _batched(ctx: Context, values: dict[str, str]) -> str | None:
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
    code = _migration(
        ctx,
        ["migrations.RunPython(forwards, migrations.RunPython.noop)"],
        atomic=False,
        why_not_atomic="each batch commits on its own",
        header="a data migration of its own",
    )
    code = code.replace("\n\n\nclass Migration", f"\n\n\n{forwards}\n\nclass Migration", 1)
    return _py(code)


def _split_slow_step(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    held_by = values.get("held_by")
    table = values.get("held_table", "the table")
    if op is not None and held_by == op.describe:
        return (
            f"Both steps come from `{op.describe}`: Django emits them together, in the same "
            "transaction. Do the slow part on its own first (the rule of that statement shows "
            "how), so that the operation finds nothing slow left to do."
        )
    what = f"`{op.describe}`" if op else "this statement"
    return (
        f"Move {what} to a migration of its own, after this one: the lock on `{table}` is then "
        "released at this migration's COMMIT, before the slow step starts. Make that migration "
        "non-atomic if it changes many rows, and batch it."
    )


def _data_migration(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    function = (op.code if op and op.code else "forwards").rsplit(".", 1)[-1]
    code = _migration(
        ctx,
        [f"migrations.RunPython({function}, migrations.RunPython.noop)"],
        atomic=False,
        why_not_atomic="each batch commits, no schema lock is held",
        header="a migration of its own",
    )
    return (
        f"Keep `{function}` apart from schema changes and make it work in batches (`.iterator()`, "
        "`bulk_update` of a few thousand rows per transaction):\n\n" + _py(code)
    )


def _reverse(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is None:
        return None
    if op.kind == "RunPython":
        function = (op.code or "forwards").rsplit(".", 1)[-1]
        return _py(f"migrations.RunPython({function}, migrations.RunPython.noop)")
    return _py(
        "migrations.RunSQL(\n    ...,  # your SQL\n"
        "    reverse_sql=...,  # the SQL that undoes it, or migrations.RunSQL.noop\n)"
    )


PROJECT_WIDE_TIMEOUT = (
    "\n\nOr once for every migration: migrate with settings whose database entry has "
    '`"OPTIONS": {"options": "-c lock_timeout=5s"}` and give the review that settings module '
    "(`--settings`), so the trace sees the timeout in effect."
)


def _lock_timeout(ctx: Context, values: dict[str, str]) -> str | None:
    if ctx.migration.atomic:
        return (
            "Fail fast instead of queueing traffic: make this the first operation (it lasts "
            "until the migration commits), and retry the deploy if it times out:\n\n"
            + _py("migrations.RunSQL(\"SET LOCAL lock_timeout = '5s'\", migrations.RunSQL.noop)")
            + PROJECT_WIDE_TIMEOUT
        )
    return (
        "Fail fast instead of queueing traffic (a non-atomic migration keeps the setting for "
        "the session, so reset it at the end):\n\n"
        + _py(
            "migrations.RunSQL(\"SET lock_timeout = '5s'\", migrations.RunSQL.noop),\n"
            "# ... your operations ...\n"
            'migrations.RunSQL("RESET lock_timeout", migrations.RunSQL.noop),'
        )
        + PROJECT_WIDE_TIMEOUT
    )


def _not_atomic(ctx: Context, values: dict[str, str]) -> str | None:
    return (
        "Set `atomic = False` on the migration, and keep only the concurrent operations in "
        "it:\n\n" + _py("class Migration(migrations.Migration):\n    atomic = False\n    ...")
    )


def _split_non_atomic(ctx: Context, values: dict[str, str]) -> str | None:
    return (
        f"Keep `{ctx.label}` for the concurrent operations only (`atomic = False`), and move "
        "the other operations to an atomic migration before it, where a failure rolls back "
        "cleanly."
    )


def _split_operations(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    what = f"`{op.describe}`" if op else "the operation"
    return (
        f"Move {what} and the operations after it to a migration of its own, after this one: "
        "`sqlmigrate` then renders it against the schema it runs on and prints every statement "
        "`migrate` runs, so the review sees them all."
    )


_RENDERERS = {
    "MR-LOCK-INDEX": _concurrent_index,
    "MR-ADD-UNIQUE": _unique_using_index,
    "MR-ADD-CHECK": _check_not_valid,
    "MR-ADD-FOREIGN-KEY": _foreign_key_not_valid,
    "MR-SET-NOT-NULL": _not_null_via_check,
    "MR-ADD-COLUMN-DEFAULT-VOLATILE": _nullable_then_backfill,
    "MR-ADD-COLUMN-DEFAULT-PRE11": _nullable_then_backfill,
    "MR-ADD-COLUMN-GENERATED": _nullable_then_backfill,
    "MR-ALTER-COLUMN-TYPE": _type_change,
    "MR-DROP-COLUMN": _remove_state_first,
    "MR-DROP-TABLE": _delete_state_first,
    "MR-RENAME-COLUMN": _rename_in_state,
    "MR-RENAME-TABLE": _rename_in_state,
    "MR-DROP-INDEX": _drop_index_concurrently,
    "MR-DML-UNBOUNDED": _batched,
    "MR-DML": _batched,
    "MR-WORK-UNDER-HELD-LOCK": _split_slow_step,
    "MR-DATA-MIGRATION": _data_migration,
    "MR-NO-REVERSE": _reverse,
    "MR-NO-LOCK-TIMEOUT": _lock_timeout,
    "MR-CONCURRENTLY-IN-TRANSACTION": _not_atomic,
    "MR-NONATOMIC-DDL": _split_non_atomic,
    "MR-UNRENDERED-SQL": _split_operations,
}
