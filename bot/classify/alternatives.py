"""Safer alternatives on MySQL/MariaDB and SQLite, as Django code to paste.

The PostgreSQL suggestions (``bot.classify.suggest``) serve the rules whose advice does not
depend on the backend (renames, data migrations, reverses, changed migration files). The rules
of this backend, and the suggestions that carry SQL, are written here in its own SQL: backticks
for MySQL, and MySQL's UPDATE ... LIMIT for batches.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.classify import mysql
from bot.classify import suggest as pg
from bot.classify.suggest import THIS, Context

ONLINE_TOOLS = (
    "an online schema change tool copies the table in the background while writes go on, "
    "throttled by replica lag: "
    "[gh-ost](https://github.com/github/gh-ost) or "
    "[pt-online-schema-change](https://docs.percona.com/percona-toolkit/pt-online-schema-change.html)"
)


def safer(rule_id: str, ctx: Context, values: dict[str, str], *, backend: str) -> str:
    """Markdown: the safer steps for ``rule_id`` in this migration on ``backend``."""
    render = RENDERERS.get((backend, rule_id))
    text = render(ctx, values) if render else None
    return text if text is not None else pg.safer(rule_id, ctx, values)


def quote(backend: str, name: str) -> str:
    if backend == "mysql":
        return mysql.quote(name)
    return '"' + name.replace('"', '""') + '"'


def _state_only(ctx: Context, database: list[str] | None = None) -> str:
    """The operation kept in Django's state, its SQL left to another tool (or to ``database``)."""
    return pg._py(
        pg._migration(ctx, [pg._state_and_database([pg._original(ctx.operation)], database or [])])
    )


def _online_copy(ctx: Context, values: dict[str, str]) -> str:
    table = values.get("table", "the_table")
    change = values.get("alter", "...")
    return (
        f"Keep the copy out of the deploy: {ONLINE_TOOLS}. Run it before deploying, e.g.\n\n"
        f"```sh\npt-online-schema-change --alter {_shell(change)} D=<database>,t={table} "
        f"--execute\n```\n\nand let the migration record the change in Django's state only:"
        f"\n\n{_state_only(ctx)}\n\nOn a table small enough for the copy to be brief, "
        "acknowledge the finding with a reasoned ignore instead."
    )


def _shell(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _clauses(sql: str) -> tuple[str, list[list[mysql.Token]]] | None:
    """An ALTER TABLE's table and its clauses."""
    items = mysql.tokens(sql)
    if mysql.words(items)[:2] != ["ALTER", "TABLE"]:
        return None
    return items[2].name, mysql.split_clauses(items[3:])


def _undo(table: str, clause: list[mysql.Token]) -> str | None:
    """The statement that reverses one ADD clause, when it is one."""
    words = [*mysql.words(clause), "", "", ""]
    if words[0] != "ADD" or len(clause) < 3:
        return None
    if words[1] == "CONSTRAINT":
        kinds = {"FOREIGN": "FOREIGN KEY", "UNIQUE": "INDEX", "CHECK": "CONSTRAINT"}
        what, name = kinds.get(words[3]), clause[2].name
    elif words[1] in ("INDEX", "KEY") or (words[1] == "UNIQUE" and words[2] in ("INDEX", "KEY")):
        what, name = "INDEX", clause[2 if words[1] != "UNIQUE" else 3].name
    elif words[1] == "COLUMN":
        what, name = "COLUMN", clause[2].name
    elif words[1] in ("", "PRIMARY", "UNIQUE", "FULLTEXT", "SPATIAL", "FOREIGN", "CHECK"):
        return None
    else:
        what, name = "COLUMN", clause[1].name
    return f"ALTER TABLE {mysql.quote(table)} DROP {what} {mysql.quote(name)}" if what else None


def _run_sql(forwards: list[str], backwards: list[str]) -> str:
    def listing(statements: list[str]) -> str:
        return "[\n" + "".join(f"        {s!r},\n" for s in statements) + "    ]"

    reverse = listing(backwards) if backwards else "migrations.RunSQL.noop"
    return f"migrations.RunSQL(\n    {listing(forwards)},\n    reverse_sql={reverse},\n)"


def _in_state(ctx: Context, run_sql: str) -> str:
    return pg._py(
        pg._migration(ctx, [pg._state_and_database([pg._original(ctx.operation)], [run_sql])])
    )


def _foreign_key_in_place(ctx: Context, values: dict[str, str]) -> str | None:
    """The ALTER split into its clauses, the foreign key added in place with checks off."""
    found = _clauses(ctx.sql)
    if found is None:
        return None
    table, clauses = found
    forwards, backwards, orphans = [], [], None
    for clause in clauses:
        words = mysql.words(clause)
        statement = f"ALTER TABLE {mysql.quote(table)} {mysql.text_of(clause)}"
        if "FOREIGN" in words and "REFERENCES" in words:
            at = words.index("REFERENCES")
            column = mysql.quote(clause[words.index("KEY") + 2].name)
            target = mysql.quote(clause[at + 1].name)
            key = mysql.quote(clause[at + 3].name)
            statement += ", ALGORITHM=INPLACE, LOCK=NONE"
            orphans = (
                f"SELECT t.{column} FROM {mysql.quote(table)} t\n"
                f"LEFT JOIN {target} r ON r.{key} = t.{column}\n"
                f"WHERE t.{column} IS NOT NULL AND r.{key} IS NULL LIMIT 1;"
            )
        forwards.append(statement)
        undo = _undo(table, clause)
        if undo:
            backwards.insert(0, undo)
    if orphans is None:
        return None
    run_sql = _run_sql(
        ["SET SESSION foreign_key_checks = 0", *forwards, "SET SESSION foreign_key_checks = 1"],
        backwards,
    )
    return (
        "Add the constraint in place, with foreign_key_checks off for this session: no copy, "
        "writes go on. Nothing checks the existing rows then, so first make sure this returns "
        f"nothing:\n\n{pg._sql_block(orphans)}\n\nThen replace `{ctx.label}` with:\n\n"
        f"{_in_state(ctx, run_sql)}"
    )


def _locking(ctx: Context, values: dict[str, str]) -> str:
    return (
        f"Writes wait for the whole operation whatever the migration does: {ONLINE_TOOLS}; "
        "or run it when writes can wait. Record it in Django's state only:\n\n" + _state_only(ctx)
    )


def _rebuild(ctx: Context, values: dict[str, str]) -> str:
    found = _clauses(ctx.sql)
    table, clauses = found if found else ("", [])
    adds_column = any(mysql.words(c)[:2] == ["ADD", "COLUMN"] for c in clauses)
    if adds_column and len(clauses) > 1:
        forwards = [f"ALTER TABLE {mysql.quote(table)} {mysql.text_of(c)}" for c in clauses]
        backwards = [undo for c in reversed(clauses) if (undo := _undo(table, c))]
        return (
            "Adding a column together with another change rebuilds the table; on its own it "
            "is instant. Run the changes one by one: replace "
            f"`{ctx.label}` with\n\n{_in_state(ctx, _run_sql(forwards, backwards))}"
        )
    return (
        "Reads and writes go on. On a large table the rebuild takes as long as a copy and "
        f"replicas lag for as long: {ONLINE_TOOLS}. Record it in Django's state only:\n\n"
        + _state_only(ctx)
    )


def _lock_wait_timeout(ctx: Context, values: dict[str, str]) -> str:
    return (
        "Fail fast instead of queueing every query behind a waiting ALTER: make this the first "
        "operation (it lasts for the session, so for the migrations after it too), and retry "
        "the deploy if it times out:\n\n"
        + pg._py('migrations.RunSQL("SET SESSION lock_wait_timeout = 5", migrations.RunSQL.noop)')
    )


def _sqlite_rewrite(ctx: Context, values: dict[str, str]) -> str:
    op = ctx.operation
    if op is not None and op.kind == "AddField":
        field = pg._field_code(op.field, null=True, default=None, db_default=None)
        add = pg._migration(ctx, [f"migrations.AddField({op.model!r}, {op.field_name!r}, {field})"])
        return (
            "SQLite adds a nullable column without a default in place, without the copy; fill "
            f"it from the code, or in batches:\n\n{pg._py(add)}"
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


def _drop_column(backend: str) -> Callable[[Context, dict[str, str]], str | None]:
    """The field leaves the code first, its column in the next release (this backend's SQL)."""

    def render(ctx: Context, values: dict[str, str]) -> str | None:
        op = ctx.operation
        if op is None or op.kind != "RemoveField" or not op.model:
            return None
        table, column = values.get("table", "the_table"), values.get("column", "the_column")
        state = f"migrations.RemoveField(model_name={op.model!r}, name={op.field_name!r})"
        old = op.old_field
        needs_null = old is not None and not old.null and not old.db_default
        database = (
            [
                f"migrations.AlterField({op.model!r}, {op.field_name!r}, "
                f"{pg._field_code(old, null=True)})"
            ]
            if needs_null
            else []
        )
        first = pg._migration(
            ctx,
            [pg._state_and_database([state], database)],
            header=f"release 1, {ctx.migration.name}.py: the code forgets the field, the "
            "column stays",
        )
        drop = f"ALTER TABLE {quote(backend, table)} DROP COLUMN {quote(backend, column)}"
        second = pg._migration(
            ctx,
            [pg._run_sql(drop, None)],
            after=THIS,
            header="release 2, once no running process knows the field",
        )
        note = (
            " The column is NOT NULL without a database default, so release 1 makes it nullable: "
            "the new code no longer writes it."
            if needs_null
            else ""
        )
        return f"Remove the field over two releases.{note}\n\n{pg._py(first)}\n\n{pg._py(second)}"

    return render


def _drop_table(backend: str) -> Callable[[Context, dict[str, str]], str | None]:
    def render(ctx: Context, values: dict[str, str]) -> str | None:
        op = ctx.operation
        if op is None or op.kind != "DeleteModel" or not op.model:
            return None
        table = quote(backend, values.get("table", "the_table"))
        first = pg._migration(
            ctx,
            [pg._state_and_database([f"migrations.DeleteModel({op.model!r})"], [])],
            header="release 1: the code forgets the model, the table stays",
        )
        second = pg._migration(
            ctx,
            [pg._run_sql(f"DROP TABLE {table}", None)],
            after=THIS,
            header="release 2: drop it (after a backup, if the rows matter)",
        )
        return f"{pg._py(first)}\n\n{pg._py(second)}"

    return render


def _mysql_batches(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is not None and op.kind not in ("RunSQL", "RunPython"):
        return None
    return pg.batched_data_migration(
        ctx,
        "one batch of a few thousand rows per statement, each committed on its own",
        "UPDATE t SET ... WHERE <not done yet> LIMIT 5000",
    )


RENDERERS: dict[tuple[str, str], Callable[[Context, dict[str, str]], str | None]] = {
    ("mysql", "MR-MYSQL-COPY-ALTER"): _online_copy,
    ("mysql", "MR-MYSQL-ADD-FOREIGN-KEY"): _foreign_key_in_place,
    ("mysql", "MR-MYSQL-LOCKING-ALTER"): _locking,
    ("mysql", "MR-MYSQL-REBUILD"): _rebuild,
    ("mysql", "MR-MYSQL-NO-LOCK-WAIT-TIMEOUT"): _lock_wait_timeout,
    ("mysql", "MR-DML"): _mysql_batches,
    ("mysql", "MR-DML-UNBOUNDED"): _mysql_batches,
    ("mysql", "MR-DROP-COLUMN"): _drop_column("mysql"),
    ("mysql", "MR-DROP-TABLE"): _drop_table("mysql"),
    ("sqlite", "MR-SQLITE-REWRITE"): _sqlite_rewrite,
    ("sqlite", "MR-SQLITE-INDEX"): _sqlite_index,
    ("sqlite", "MR-DROP-COLUMN"): _drop_column("sqlite"),
    ("sqlite", "MR-DROP-TABLE"): _drop_table("sqlite"),
}
