"""PostgreSQL's safer alternatives, as the Django migration code to paste, by rule id.

``CONCURRENTLY`` index builds and drops, constraints added ``NOT VALID`` then validated, NOT NULL
proven by a validated CHECK, ``lock_timeout``: what PostgreSQL offers to avoid a long lock.
"""

from __future__ import annotations

import re
from functools import partial

from pglast import ast, parse_sql
from pglast.parser import ParseError

from bot.classify.advice import (
    THIS,
    Advice,
    Context,
    delete_model_over_two_releases,
    field_code,
    ident,
    migration,
    operation_name,
    original,
    py,
    remove_field_over_two_releases,
    run_sql,
    sql_block,
    state_and_database,
)
from bot.classify.postgresql.analyzer import deparse
from bot.models import OperationInfo


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
        code = migration(
            ctx,
            [f"AddIndexConcurrently(\n    model_name={op.model!r},\n    index={index}\n)"],
            atomic=False,
            imports=("from django.contrib.postgres.operations import AddIndexConcurrently",),
        )
        return (
            "Build the index without blocking writes: `AddIndexConcurrently` takes the same "
            f"arguments as `AddIndex`. Replace `{ctx.label}` with:\n\n{py(code)}"
        )
    creates = []
    for sql in ctx.statements_of_operation():
        node = _node(sql)
        concurrent = _concurrently(sql) if isinstance(node, ast.IndexStmt) else None
        if concurrent and node is not None:
            drop = f"DROP INDEX CONCURRENTLY IF EXISTS {ident(node.idxname or 'the_index')}"
            creates.append(run_sql(concurrent, drop))
    if not creates:
        return None
    if op is None or op.kind == "RunSQL":
        code = migration(ctx, creates, atomic=False)
        return "Add `CONCURRENTLY` and run it from a non-atomic migration of its own:\n\n" + py(
            code
        )
    steps = []
    if op.kind == "AddField":
        field = field_code(op.field, db_index=False, unique=False)
        first = migration(
            ctx,
            [
                f"migrations.AddField(\n    model_name={op.model!r},\n    name={op.field_name!r},"
                f"\n    field={field},\n)"
            ],
            header=f"{ctx.migration.name}.py: the column alone, without its index (instant)",
        )
        steps.append(py(first))
        state = (
            f"migrations.AlterField(\n    model_name={op.model!r},\n    name={op.field_name!r},\n"
            f"    field={field_code(op.field)},\n)"
        )
    else:
        state = original(op)
    second = migration(
        ctx,
        [state_and_database([state], creates)],
        atomic=False,
        after=THIS if op.kind == "AddField" else None,
        header="the index, built concurrently by a non-atomic migration",
    )
    steps.append(py(second))
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
    cols = ", ".join(ident(c) for c in columns.split(","))
    create = f"CREATE UNIQUE INDEX CONCURRENTLY {ident(constraint)} ON {ident(table)} ({cols})"
    attach = (
        f"ALTER TABLE {ident(table)} ADD CONSTRAINT {ident(constraint)} "
        f"UNIQUE USING INDEX {ident(constraint)}"
    )
    database = [
        run_sql(create, f"DROP INDEX CONCURRENTLY IF EXISTS {ident(constraint)}"),
        run_sql(attach, f"ALTER TABLE {ident(table)} DROP CONSTRAINT {ident(constraint)}"),
    ]
    code = migration(ctx, [state_and_database([original(ctx.operation)], database)], atomic=False)
    return (
        "Build the unique index concurrently, then attach it as the constraint (a brief ACCESS "
        f"EXCLUSIVE lock, no scan). Replace `{ctx.label}` with:\n\n{py(code)}"
    )


def _check_not_valid(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    constraint = values.get("constraint", "the_constraint")
    if op is None or op.kind != "AddConstraint" or not op.model:
        return None
    first, second = _not_valid_then_validate(
        ctx,
        op.model,
        "...,  # the CheckConstraint of your AddConstraint, unchanged",
        constraint,
        f"{ctx.migration.name}.py: instant, new rows are checked from now on",
        "the next migration: scans under SHARE UPDATE EXCLUSIVE, traffic goes on",
    )
    return f"{py(first)}\n\n{py(second)}"


def _not_valid_then_validate(
    ctx: Context, model: str, constraint: str, name: str, *headers: str
) -> tuple[str, str]:
    """Two migrations: the constraint added NOT VALID (instant), then validated (a scan that
    lets traffic go on)."""
    first = migration(
        ctx,
        [f"AddConstraintNotValid(\n    model_name={model!r},\n    constraint={constraint}\n)"],
        imports=("from django.contrib.postgres.operations import AddConstraintNotValid",),
        header=headers[0],
    )
    second = migration(
        ctx,
        [f"ValidateConstraint(model_name={model!r}, name={name!r})"],
        imports=("from django.contrib.postgres.operations import ValidateConstraint",),
        after=THIS,
        header=headers[1],
    )
    return first, second


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
    drop = f"ALTER TABLE {ident(table)} DROP CONSTRAINT {ident(constraint)}"
    validate = f"ALTER TABLE {ident(table)} VALIDATE CONSTRAINT {ident(constraint)}"
    first = migration(
        ctx,
        [state_and_database([original(op)], [run_sql(add, drop)])],
        header=f"{ctx.migration.name}.py: NOT VALID, a brief lock and no scan",
    )
    second = migration(
        ctx,
        [run_sql(validate, None)],
        after=THIS,
        header="the next migration: validates without blocking writes",
    )
    return f"{py(first)}\n\n{py(second)}"


def _not_null_via_check(ctx: Context, values: dict[str, str], *, pg_version: int) -> str | None:
    op = ctx.operation
    table = values.get("table", "the_table")
    column = values.get("column", "the_column")
    name = f"{table}_{column}_not_null"[:63]
    if pg_version < 12:
        return (
            f"PostgreSQL {pg_version} cannot use a CHECK constraint to skip the scan (12+ "
            "can): run this while the table is small or in a maintenance window, or upgrade."
        )
    if op is None or not op.model:
        return sql_block(
            f"ALTER TABLE {ident(table)} ADD CONSTRAINT {ident(name)} "
            f"CHECK ({ident(column)} IS NOT NULL) NOT VALID;\n"
            f"ALTER TABLE {ident(table)} VALIDATE CONSTRAINT {ident(name)};\n"
            f"ALTER TABLE {ident(table)} ALTER COLUMN {ident(column)} SET NOT NULL;  -- no scan\n"
            f"ALTER TABLE {ident(table)} DROP CONSTRAINT {ident(name)};"
        )
    field = op.field_name or column
    check = (
        f"models.CheckConstraint(\n        condition=models.Q({field}__isnull=False), "
        f"name={name!r}\n    )"
    )
    first, second = _not_valid_then_validate(
        ctx,
        op.model,
        f"{check},",
        name,
        f"1. {ctx.migration.name}.py: instant, the CHECK applies to new rows",
        "2. validates under SHARE UPDATE EXCLUSIVE: traffic goes on",
    )
    third = migration(
        ctx,
        [original(op), f"migrations.RemoveConstraint(model_name={op.model!r}, name={name!r})"],
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
        f"its scan. Three migrations:{backfill}\n\n{py(first)}\n\n{py(second)}\n\n{py(third)}"
    )


def _nullable_then_backfill(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is None or op.kind != "AddField" or not op.model:
        return None
    model = op.model
    field = op.field_name or values.get("column", "the_field")
    app = ctx.migration.app_label
    add = migration(
        ctx,
        [
            f"migrations.AddField(\n    model_name={model!r},\n    name={field!r},\n"
            f"    field={field_code(op.field, null=True, db_default=None, default=None)},\n)"
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
    second = migration(
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
        f"without a scan):\n\n{py(add)}\n\n{py(second)}"
    )


def _type_change(ctx: Context, values: dict[str, str]) -> str | None:
    old = values.get("old_type", "")
    new = values.get("new_type", "")
    table = values.get("table", "the_table")
    column = values.get("column", "the_column")
    old_len = re.fullmatch(r"varchar\((\d+)\)", old)
    new_len = re.fullmatch(r"varchar\((\d+)\)", new)
    if old_len and new_len and int(new_len.group(1)) < int(old_len.group(1)):
        name = ident(f"{table}_{column}_length"[:63])
        return (
            "Shortening a varchar rewrites the table; a CHECK constraint enforces the limit "
            "without a rewrite, validated without blocking traffic:\n\n"
            + sql_block(
                f"ALTER TABLE {ident(table)} ADD CONSTRAINT {name} "
                f"CHECK (char_length({ident(column)}) <= {new_len.group(1)}) NOT VALID;\n"
                f"ALTER TABLE {ident(table)} VALIDATE CONSTRAINT {name};"
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
        + py(
            migration(
                ctx,
                [
                    f"migrations.AddField(\n    model_name={model!r},\n"
                    f"    name={column + '_new'!r},\n    field={field_code(field, null=True)},\n)"
                ],
                header="step 1",
            )
        )
    )


def _drop_index_concurrently(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    index = values.get("index", "the_index")
    if op is not None and op.kind == "RemoveIndex" and op.model:
        code = migration(
            ctx,
            [f"RemoveIndexConcurrently(model_name={op.model!r}, name={index!r})"],
            atomic=False,
            imports=("from django.contrib.postgres.operations import RemoveIndexConcurrently",),
        )
        return f"Replace `{ctx.label}` with:\n\n{py(code)}"
    drops = [
        run_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {ident(node.objects[0][-1].sval)}", None)
        for node in map(_node, ctx.statements_of_operation())
        if isinstance(node, ast.DropStmt) and node.objects
    ] or [run_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {ident(index)}", None)]
    code = migration(ctx, [state_and_database([original(op)], drops)], atomic=False)
    return f"Drop it concurrently, outside a transaction:\n\n{py(code)}"


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
    what = f"`{operation_name(op)}`" if op else "this statement"
    return (
        f"Move {what} to a migration of its own, after this one: the lock on `{table}` is then "
        "released at this migration's COMMIT, before the slow step starts. Make that migration "
        "non-atomic if it changes many rows, and batch it."
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
            + py("migrations.RunSQL(\"SET LOCAL lock_timeout = '5s'\", migrations.RunSQL.noop)")
            + PROJECT_WIDE_TIMEOUT
        )
    return (
        "Fail fast instead of queueing traffic (a non-atomic migration keeps the setting for "
        "the session, so reset it at the end):\n\n"
        + py(
            "migrations.RunSQL(\"SET lock_timeout = '5s'\", migrations.RunSQL.noop),\n"
            "# ... your operations ...\n"
            'migrations.RunSQL("RESET lock_timeout", migrations.RunSQL.noop),'
        )
        + PROJECT_WIDE_TIMEOUT
    )


def _not_atomic(ctx: Context, values: dict[str, str]) -> str | None:
    return (
        "Set `atomic = False` on the migration, and keep only the concurrent operations in "
        "it:\n\n" + py("class Migration(migrations.Migration):\n    atomic = False\n    ...")
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


def advice(pg_version: int) -> dict[str, Advice]:
    """The renderers of PostgreSQL's rules, for a server of major version ``pg_version``."""
    return {
        "MR-LOCK-INDEX": _concurrent_index,
        "MR-ADD-UNIQUE": _unique_using_index,
        "MR-ADD-CHECK": _check_not_valid,
        "MR-ADD-FOREIGN-KEY": _foreign_key_not_valid,
        "MR-SET-NOT-NULL": partial(_not_null_via_check, pg_version=pg_version),
        "MR-ADD-COLUMN-DEFAULT-VOLATILE": _nullable_then_backfill,
        "MR-ADD-COLUMN-DEFAULT-PRE11": _nullable_then_backfill,
        "MR-ADD-COLUMN-GENERATED": _nullable_then_backfill,
        "MR-ALTER-COLUMN-TYPE": _type_change,
        "MR-DROP-COLUMN": remove_field_over_two_releases(ident, nullable_in_sql=True),
        "MR-DROP-TABLE": delete_model_over_two_releases(ident, cascade=True),
        "MR-DROP-INDEX": _drop_index_concurrently,
        "MR-WORK-UNDER-HELD-LOCK": _split_slow_step,
        "MR-NO-LOCK-TIMEOUT": _lock_timeout,
        "MR-CONCURRENTLY-IN-TRANSACTION": _not_atomic,
        "MR-NONATOMIC-DDL": _split_non_atomic,
        "MR-UNRENDERED-SQL": _split_operations,
    }
