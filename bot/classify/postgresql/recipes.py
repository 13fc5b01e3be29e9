"""PostgreSQL recipes: one risky operation rewritten as steps that never block on a big table.

A recipe keeps the operation's effect on Django's state exactly (the original call, copied, in
``state_operations``) and replaces the SQL Django would run by statements that reach the same
schema without holding a write-blocking lock for work that grows with the table:

- ``CREATE INDEX`` -> ``CREATE INDEX CONCURRENTLY``, after dropping any INVALID leftover of a
  cancelled attempt of the same name;
- ``ADD CONSTRAINT ... UNIQUE`` (and an inline ``UNIQUE``) -> a unique index built concurrently,
  then the constraint ``USING INDEX``;
- ``SET NOT NULL`` -> ``CHECK (... IS NOT NULL) NOT VALID``, ``VALIDATE``, ``SET NOT NULL``
  (which the valid check spares the scan), then the check dropped;
- ``UPDATE ... WHERE col IS NULL`` (Django's fill) -> batches, each committed on its own;
- ``ADD CONSTRAINT ... FOREIGN KEY`` / ``CHECK`` -> ``NOT VALID``, then ``VALIDATE``.

Each statement then runs in its own transaction (the migration is not atomic), so the brief
ACCESS EXCLUSIVE of a catalog change is never held across a scan.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from bot.classify.recipe import Job, NoRecipe, Recipe, Step
from bot.classify.source import call, identifier, segment

BATCH = 5000
POSTGRES_OPERATIONS = "from django.contrib.postgres.operations import {}"
IDENT = r'"(?:[^"]|"")+"'
PARTITIONS = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = %s::regclass ORDER BY c.relname"
)
PER_PARTITION = '''def {function}(apps, schema_editor):
    """{table} is partitioned, and PostgreSQL refuses CREATE INDEX CONCURRENTLY on it: the
    parent's index is made ON ONLY the parent (no scan; invalid until every partition has its
    own), each partition's is built concurrently and attached; the last attach validates it."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute({drop_parent})
        cursor.execute({create_parent})
        cursor.execute({partitions}, [{table_literal}])
        for (partition,) in cursor.fetchall():
            index = partition + {suffix}
            cursor.execute('DROP INDEX CONCURRENTLY IF EXISTS "%s"' % index)
            cursor.execute({create_child}.format(index=index, partition=partition))
            cursor.execute({attach}.format(index=index))'''


GENERATED = (
    "There is no online way to add a stored generated column: PostgreSQL computes it by "
    "rewriting the table under ACCESS EXCLUSIVE. On a large table, add a plain nullable column "
    "instead (`AddField` with `null=True`: instant), fill it in batches from a data migration "
    "and keep it current from the code that writes the row (or a trigger), or compute the "
    "value in queries (`annotate()` with the same expression); keep the `GeneratedField` for "
    "a maintenance window. On a small table, acknowledge the finding with a reasoned ignore."
)
TYPE_CHANGE = (
    "Changing a column's type rewrites the table and its indexes under ACCESS EXCLUSIVE. The "
    "online way takes several releases: add a column of the new type (nullable), keep it in "
    "sync with a trigger on INSERT and UPDATE, fill it in batches, build its indexes "
    "CONCURRENTLY and its constraints NOT VALID then VALIDATE; then, in one short "
    "transaction, swap the two columns' names and drop the trigger; drop the old column in the "
    "release after. A primary key that foreign keys point at needs the same for every "
    "referencing column, or a maintenance window. The review does not write these files: the "
    "swap depends on how your code and your foreign keys use the column."
)


def unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def run_sql(sql: str, reverse: str | None) -> str:
    return call(
        "migrations.RunSQL",
        repr(sql),
        reverse_sql=repr(reverse) if reverse else "migrations.RunSQL.noop",
    )


@dataclass
class DatabaseWork:
    operations: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    concurrent: bool = False
    what: list[str] = field(default_factory=list)
    later: list[str] = field(default_factory=list)
    """Statements for the next migration: a VALIDATE must not share the ADD's transaction."""


def statement_steps(sql: str, work: DatabaseWork, partitioned: set[str]) -> None:
    """The safe statements for one of Django's, appended to ``work``."""
    text = re.sub(r"\s*SET CONSTRAINTS [^;]*;\s*$", "", sql.strip()).rstrip(";").strip()
    if match := re.fullmatch(rf"CREATE (UNIQUE )?INDEX ({IDENT}) ON ({IDENT}) (.+)", text, re.S):
        unique, name, table, rest = match.groups()
        if unquote(table) in partitioned:
            _index_per_partition(work, name, table, f"{unique or ''}INDEX", rest)
        else:
            _concurrent_index(work, name, table, f"{unique or ''}INDEX", rest)
            work.what.append(f"builds the index {unquote(name)} concurrently")
    elif match := re.fullmatch(
        rf"ALTER TABLE ({IDENT}) ADD CONSTRAINT ({IDENT}) UNIQUE \((.+)\)", text, re.S
    ):
        table, name, columns = match.groups()
        _unique_with_index(work, table, name, columns)
    elif match := re.fullmatch(
        rf"ALTER TABLE ({IDENT}) ADD COLUMN ({IDENT}) (.+) UNIQUE", text, re.S
    ):
        table, column, definition = match.groups()
        added = f"ALTER TABLE {table} ADD COLUMN {column} {definition}"
        work.operations.append(run_sql(added, _reverse(added)))
        name = quote(_truncate(f"{unquote(table)}_{unquote(column)}_key"))
        _unique_with_index(work, table, name, column)
    elif match := re.fullmatch(
        rf"ALTER TABLE ({IDENT}) ALTER COLUMN ({IDENT}) SET NOT NULL", text, re.S
    ):
        table, column = match.groups()
        check = quote(_truncate(f"{unquote(table)}_{unquote(column)}_not_null"))
        work.operations += [
            run_sql(
                f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) "
                "NOT VALID",
                f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}",
            ),
            run_sql(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}", None),
            run_sql(
                f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL",
                f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL",
            ),
            run_sql(f"ALTER TABLE {table} DROP CONSTRAINT {check}", None),
        ]
        work.concurrent = True
        work.what.append(
            f"makes {unquote(column)} NOT NULL through a validated CHECK, without a scan under "
            "ACCESS EXCLUSIVE"
        )
    elif match := re.fullmatch(
        rf"UPDATE ({IDENT}) SET ({IDENT}) = (.+) WHERE ({IDENT}) IS NULL", text, re.S
    ):
        table, column, value, _ = match.groups()
        _batched_fill(work, table, column, value)
    elif match := re.fullmatch(
        rf"ALTER TABLE ({IDENT}) ADD CONSTRAINT ({IDENT}) ((?:FOREIGN KEY|CHECK) .+)", text, re.S
    ):
        table, name, definition = match.groups()
        work.operations.append(
            run_sql(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition} NOT VALID",
                f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}",
            )
        )
        work.later.append(run_sql(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}", None))
        work.what.append(
            f"adds {unquote(name)} NOT VALID (no scan), and validates it in the next migration "
            "(a scan that lets reads and writes go on)"
        )
    else:
        work.operations.append(run_sql(text, _reverse(text)))


def _concurrent_index(work: DatabaseWork, name: str, table: str, kind: str, rest: str) -> None:
    work.operations += [
        run_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {name}", None),
        run_sql(
            f"CREATE {kind} CONCURRENTLY {name} ON {table} {rest}",
            f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
        ),
    ]
    work.concurrent = True


def _index_per_partition(work: DatabaseWork, name: str, table: str, kind: str, rest: str) -> None:
    """PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table: build the parent's
    index ON ONLY the parent (no scan; invalid until every partition has its own), then each
    partition's concurrently, attached one by one; the last attach makes the parent's valid."""
    columns = re.match(r"\((.*)\)", rest.strip(), re.S)
    names = [m[1] for m in re.finditer(rf"(?:^|,)\s*({IDENT})", columns[1])] if columns else []
    if not names or "(" in (columns[1] if columns else "("):
        raise NoRecipe("the index of the partitioned table is not on plain columns")
    suffix = "_".join(unquote(n) for n in names) + ("_key" if "UNIQUE" in kind else "_idx")
    function = identifier(f"build_{unquote(name)}_per_partition")
    work.functions.append(
        PER_PARTITION.format(
            function=function,
            table=unquote(table),
            drop_parent=repr(f"DROP INDEX IF EXISTS {name}"),
            create_parent=repr(f"CREATE {kind} {name} ON ONLY {table} {rest}"),
            partitions=repr(PARTITIONS),
            table_literal=repr(table),
            suffix=repr("_" + suffix),
            create_child=repr(f'CREATE {kind} CONCURRENTLY "{{index}}" ON "{{partition}}" {rest}'),
            attach=repr(f'ALTER INDEX {name} ATTACH PARTITION "{{index}}"'),
        )
    )
    work.operations.append(
        call("migrations.RunPython", function, "migrations.RunPython.noop", elidable="False")
    )
    work.concurrent = True
    work.what.append(
        f"builds {unquote(name)} partition by partition: {unquote(table)} is partitioned, and "
        "PostgreSQL refuses CONCURRENTLY on a partitioned table"
    )


def _unique_with_index(work: DatabaseWork, table: str, name: str, columns: str) -> None:
    _concurrent_index(work, name, table, "UNIQUE INDEX", f"({columns})")
    work.operations.append(
        run_sql(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}",
            f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}",
        )
    )
    work.what.append(f"builds the unique index {unquote(name)} concurrently, then the constraint")


def _batched_fill(work: DatabaseWork, table: str, column: str, value: str) -> None:
    function = identifier(f"fill_{unquote(table)}_{unquote(column)}")
    update = (
        f"UPDATE {table} SET {column} = {value} WHERE ctid IN "
        f"(SELECT ctid FROM {table} WHERE {column} IS NULL LIMIT {BATCH})"
    )
    work.functions.append(
        f"def {function}(apps, schema_editor):\n"
        f'    """Fill {unquote(column)} {BATCH} rows at a time, a transaction each."""\n'
        "    with schema_editor.connection.cursor() as cursor:\n"
        "        while True:\n"
        f"            cursor.execute({update!r})\n"
        f"            if cursor.rowcount < {BATCH}:\n"
        "                break"
    )
    work.operations.append(
        call("migrations.RunPython", function, "migrations.RunPython.noop", elidable="False")
    )
    work.concurrent = True
    work.what.append(f"fills {unquote(column)} in batches of {BATCH} rows, not one UPDATE")


def _reverse(sql: str) -> str | None:
    if match := re.fullmatch(rf"ALTER TABLE ({IDENT}) ADD COLUMN ({IDENT}) .+", sql, re.S):
        return f"ALTER TABLE {match[1]} DROP COLUMN {match[2]}"
    if match := re.fullmatch(
        rf"ALTER TABLE ({IDENT}) ALTER COLUMN ({IDENT}) SET DEFAULT .+", sql, re.S
    ):
        return f"ALTER TABLE {match[1]} ALTER COLUMN {match[2]} DROP DEFAULT"
    return None


def _truncate(name: str) -> str:
    """PostgreSQL's own name for an implicit object, as long as it fits 63 bytes."""
    if len(name.encode()) > 63:
        raise NoRecipe(f"the name {name} is longer than PostgreSQL keeps")
    return name


# -- per operation --------------------------------------------------------------------------


def index(job: Job) -> list[Step]:
    """AddIndex -> AddIndexConcurrently behind the INVALID guard; on a partitioned table, and
    for the indexes of other operations, their statements rewritten."""
    if job.op.kind != "AddIndex" or job.info.table in job.partitioned:
        return statements_in_state(job)
    index = job.op.argument("index", 1)
    model = job.op.argument("model_name", 0)
    names = [m[1] for s in job.statements if (m := re.match(rf"CREATE INDEX ({IDENT})", s))]
    if index is None or model is None or len(names) != 1:
        raise NoRecipe("the index is not one plain CREATE INDEX")
    return [
        Step(
            [
                run_sql(f"DROP INDEX CONCURRENTLY IF EXISTS {names[0]}", None),
                call("AddIndexConcurrently", model_name=model, index=index),
            ],
            atomic=False,
            imports=[POSTGRES_OPERATIONS.format("AddIndexConcurrently")],
            does=f"builds {unquote(names[0])} concurrently (a cancelled build leaves an INVALID "
            "index: the first statement drops it, so a retry starts clean)",
        )
    ]


def remove_index(job: Job) -> list[Step]:
    model, name = job.op.argument("model_name", 0), job.op.argument("name", 1)
    if job.op.kind != "RemoveIndex" or model is None or name is None:
        return statements_in_state(job)
    return [
        Step(
            [call("RemoveIndexConcurrently", model_name=model, name=name)],
            atomic=False,
            imports=[POSTGRES_OPERATIONS.format("RemoveIndexConcurrently")],
            does="drops the index concurrently",
        )
    ]


STATEMENT_OPERATIONS = (
    "AddField",
    "AlterField",
    "AddConstraint",
    "AddIndex",
    "AlterUniqueTogether",
)


def statements_in_state(job: Job) -> list[Step]:
    """The operation kept for Django's state, its SQL replaced statement by statement."""
    if job.op.kind not in STATEMENT_OPERATIONS:
        raise NoRecipe(f"no recipe for {job.op.kind}")
    work = DatabaseWork()
    for sql in job.statements:
        statement_steps(sql, work, job.partitioned)
    database = "[\n" + "".join(f"    {_indent(o)},\n" for o in work.operations) + "]"
    validate = [Step(work.later, own_transaction=True)] if work.later else []
    return [
        Step(
            [
                call(
                    "migrations.SeparateDatabaseAndState",
                    state_operations=f"[\n    {_indent(job.op.source)},\n]",
                    database_operations=database,
                )
            ],
            atomic=not work.concurrent,
            functions=work.functions,
            does="; ".join(work.what),
        ),
        *validate,
    ]


def _indent(code: str) -> str:
    return code.replace("\n", "\n    ")


def _state_only(source: str, database: list[str]) -> str:
    listed = "".join(f"    {_indent(o)},\n" for o in database)
    return call(
        "migrations.SeparateDatabaseAndState",
        state_operations=f"[\n    {_indent(source)},\n]",
        database_operations=f"[\n{listed}]" if database else "[]",
    )


def remove_field(job: Job) -> list[Step]:
    """RemoveField over two releases: the code forgets the field, the column goes later."""
    drops = [
        m
        for s in job.statements
        if (m := re.fullmatch(rf"ALTER TABLE ({IDENT}) DROP COLUMN ({IDENT})( CASCADE)?;?", s))
    ]
    if job.op.kind != "RemoveField" or len(drops) != 1:
        raise NoRecipe("the field's column is not dropped by one RemoveField statement")
    table, column = drops[0][1], drops[0][2]
    old = job.info.old_field
    nullable = bool(old and (old.null or old.db_default))
    database = (
        []
        if nullable
        else [
            run_sql(
                f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL",
                f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL",
            )
        ]
    )
    return [
        Step(
            [_state_only(job.op.source, database)],
            does="release 1: the code forgets the field, the column stays"
            + ("" if nullable else " and becomes nullable, since the new code no longer writes it"),
        ),
        Step(
            [run_sql(drops[0][0].rstrip(";"), None)],
            release=2,
            does="release 2, once no running process knows the field: the column goes",
        ),
    ]


def delete_model(job: Job) -> list[Step]:
    drops = [
        m for s in job.statements if (m := re.fullmatch(rf"DROP TABLE ({IDENT})( CASCADE)?;?", s))
    ]
    if job.op.kind != "DeleteModel" or len(drops) != 1 or len(job.statements) != 1:
        raise NoRecipe("the model's table is not dropped by one DeleteModel statement")
    return [
        Step(
            [_state_only(job.op.source, [])],
            does="release 1: the code forgets the model, the table stays",
        ),
        Step(
            [run_sql(drops[0][0].rstrip(";"), None)],
            release=2,
            does="release 2, once no running process knows the model (and after a backup, if "
            "the rows matter): the table goes",
        ),
    ]


def rename_field(job: Job) -> list[Step]:
    """RenameField in Django's state only: the model keeps the old column through db_column."""
    renames = [
        m
        for s in job.statements
        if (m := re.fullmatch(rf"ALTER TABLE ({IDENT}) RENAME COLUMN ({IDENT}) TO ({IDENT});?", s))
    ]
    model, new_name = job.op.argument("model_name", 0), job.op.argument("new_name", 2)
    if job.op.kind != "RenameField" or len(renames) != 1 or len(job.statements) != 1:
        raise NoRecipe("the rename is not one RENAME COLUMN")
    if model is None or new_name is None:
        raise NoRecipe("the rename does not name its model and field")
    edit = job.field_edit(ast.literal_eval(model), ast.literal_eval(new_name))
    if edit is None:
        raise NoRecipe("the renamed field's definition in models.py uses more than `models.`")
    old_column = unquote(renames[0][2])
    job.edited[edit.path] = edit.with_keyword("db_column", old_column)
    alter = call(
        "migrations.AlterField",
        model_name=model,
        name=new_name,
        field=edit.code_with("db_column", old_column),
    )
    return [
        Step(
            [
                call(
                    "migrations.SeparateDatabaseAndState",
                    state_operations=f"[\n    {_indent(job.op.source)},\n    {_indent(alter)},\n]",
                    database_operations="[]",
                )
            ],
            does=f"renames the field in Django's state only: the model names the column it has "
            f"(`db_column={old_column!r}`, in {edit.path}), so code of the previous release "
            "keeps working",
        )
    ]


def db_default(job: Job) -> list[Step]:
    """AddField(default=X), NOT NULL -> the field with ``db_default=X`` in models.py and in the
    migration: the column keeps its default, so the previous release's INSERTs, which do not
    name the column, still succeed."""
    model, name = job.op.argument("model_name", 0), job.op.argument("name", 1)
    field_node = job.op.argument_node("field", 2)
    if job.op.kind != "AddField" or model is None or name is None:
        raise NoRecipe("the column is not added by one AddField")
    default = next(
        (k.value for k in getattr(field_node, "keywords", []) if k.arg == "default"), None
    )
    try:
        ast.literal_eval(default) if default is not None else None
    except ValueError:
        default = None
    if default is None:
        raise NoRecipe(
            "the default is not a literal",
            "Give the field a `db_default` (Django 5.0 or newer): a database expression such as "
            "`Now()` or `Value(...)`, so that the column keeps a default in the database.",
        )
    edit = job.field_edit(ast.literal_eval(model), ast.literal_eval(name))
    if edit is None:
        raise NoRecipe("the field's definition in models.py uses more than `models.`")
    value = segment(job.op.text, default)
    job.edited[edit.path] = edit.with_source("db_default", value)
    return [
        Step(
            [
                call(
                    "migrations.AddField",
                    model_name=model,
                    name=name,
                    field=edit.code_with_source("db_default", value),
                )
            ],
            does=f"adds the column with a database default (`db_default={value}`, in "
            f"{edit.path}): rows written by the previous release, which does not know the "
            "field, get it too (Django 5.0 or newer)",
        )
    ]


def without_recipe(reason: str, guidance: str) -> Recipe:
    def recipe(job: Job) -> list[Step]:
        raise NoRecipe(reason, guidance)

    return recipe


RECIPES: dict[str, Recipe] = {
    # The first rule of an operation found here decides its recipe: the specific ones first.
    "MR-ADD-COLUMN-GENERATED": without_recipe(
        "a stored generated column is computed by a rewrite", GENERATED
    ),
    "MR-ALTER-COLUMN-TYPE": without_recipe("a column type change rewrites the table", TYPE_CHANGE),
    "MR-RENAME-COLUMN": rename_field,
    "MR-DROP-COLUMN": remove_field,
    "MR-DROP-TABLE": delete_model,
    "MR-DROP-INDEX": remove_index,
    "MR-LOCK-INDEX": index,
    "MR-ADD-UNIQUE": statements_in_state,
    "MR-ADD-CHECK": statements_in_state,
    "MR-ADD-FOREIGN-KEY": statements_in_state,
    "MR-SET-NOT-NULL": statements_in_state,
    "MR-WORK-UNDER-HELD-LOCK": statements_in_state,
    "MR-NOT-NULL-WITHOUT-DB-DEFAULT": db_default,
}
"""PostgreSQL's file recipes, by the rule they answer."""
