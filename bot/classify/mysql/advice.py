"""MySQL/MariaDB's safer alternatives, as Django code to paste, in MySQL's own SQL: backticks,
online schema change tools for the copies, UPDATE ... LIMIT for batches.
"""

from __future__ import annotations

from bot.classify import advice
from bot.classify.advice import Advice, Context
from bot.classify.mysql.analyzer import quote
from bot.classify.sql import Token, keywords, split_clauses, text_of, tokens

ONLINE_TOOLS = (
    "an online schema change tool copies the table in the background while writes go on, "
    "throttled by replica lag: "
    "[gh-ost](https://github.com/github/gh-ost) or "
    "[pt-online-schema-change](https://docs.percona.com/percona-toolkit/pt-online-schema-change.html)"
)


def _state_only(ctx: Context, database: list[str] | None = None) -> str:
    """The operation kept in Django's state, its SQL left to another tool (or to ``database``)."""
    return advice.py(
        advice.migration(
            ctx, [advice.state_and_database([advice.original(ctx.operation)], database or [])]
        )
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


def _clauses(sql: str) -> tuple[str, list[list[Token]]] | None:
    """An ALTER TABLE's table and its clauses."""
    items = tokens(sql)
    if keywords(items)[:2] != ["ALTER", "TABLE"]:
        return None
    return items[2].name, split_clauses(items[3:])


def _undo(table: str, clause: list[Token]) -> str | None:
    """The statement that reverses one ADD clause, when it is one."""
    words = [*keywords(clause), "", "", ""]
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
    return f"ALTER TABLE {quote(table)} DROP {what} {quote(name)}" if what else None


def _run_sql(forwards: list[str], backwards: list[str]) -> str:
    def listing(statements: list[str]) -> str:
        return "[\n" + "".join(f"        {s!r},\n" for s in statements) + "    ]"

    reverse = listing(backwards) if backwards else "migrations.RunSQL.noop"
    return f"migrations.RunSQL(\n    {listing(forwards)},\n    reverse_sql={reverse},\n)"


def _foreign_key_in_place(ctx: Context, values: dict[str, str]) -> str | None:
    """The ALTER split into its clauses, the foreign key added in place with checks off."""
    found = _clauses(ctx.sql)
    if found is None:
        return None
    table, clauses = found
    forwards, backwards, orphans = [], [], None
    for clause in clauses:
        words = keywords(clause)
        statement = f"ALTER TABLE {quote(table)} {text_of(clause)}"
        if "FOREIGN" in words and "REFERENCES" in words:
            at = words.index("REFERENCES")
            column = quote(clause[words.index("KEY") + 2].name)
            target = quote(clause[at + 1].name)
            key = quote(clause[at + 3].name)
            statement += ", ALGORITHM=INPLACE, LOCK=NONE"
            orphans = (
                f"SELECT t.{column} FROM {quote(table)} t\n"
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
        f"nothing:\n\n{advice.sql_block(orphans)}\n\nThen replace `{ctx.label}` with:\n\n"
        f"{_state_only(ctx, [run_sql])}"
    )


def _locking(ctx: Context, values: dict[str, str]) -> str:
    return (
        f"Writes wait for the whole operation whatever the migration does: {ONLINE_TOOLS}; "
        "or run it when writes can wait. Record it in Django's state only:\n\n" + _state_only(ctx)
    )


def _rebuild(ctx: Context, values: dict[str, str]) -> str:
    found = _clauses(ctx.sql)
    table, clauses = found if found else ("", [])
    adds_column = any(keywords(c)[:2] == ["ADD", "COLUMN"] for c in clauses)
    if adds_column and len(clauses) > 1:
        forwards = [f"ALTER TABLE {quote(table)} {text_of(c)}" for c in clauses]
        backwards = [undo for c in reversed(clauses) if (undo := _undo(table, c))]
        return (
            "Adding a column together with another change rebuilds the table; on its own it "
            "is instant. Run the changes one by one: replace "
            f"`{ctx.label}` with\n\n{_state_only(ctx, [_run_sql(forwards, backwards)])}"
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
        + advice.py(
            'migrations.RunSQL("SET SESSION lock_wait_timeout = 5", migrations.RunSQL.noop)'
        )
    )


def _mysql_batches(ctx: Context, values: dict[str, str]) -> str | None:
    op = ctx.operation
    if op is not None and op.kind not in ("RunSQL", "RunPython"):
        return None
    return advice.batched_data_migration(
        ctx,
        "one batch of a few thousand rows per statement, each committed on its own",
        "UPDATE t SET ... WHERE <not done yet> LIMIT 5000",
    )


ADVICE: dict[str, Advice] = {
    "MR-MYSQL-COPY-ALTER": _online_copy,
    "MR-MYSQL-ADD-FOREIGN-KEY": _foreign_key_in_place,
    "MR-MYSQL-LOCKING-ALTER": _locking,
    "MR-MYSQL-REBUILD": _rebuild,
    "MR-MYSQL-NO-LOCK-WAIT-TIMEOUT": _lock_wait_timeout,
    "MR-DML": _mysql_batches,
    "MR-DML-UNBOUNDED": _mysql_batches,
    "MR-DROP-COLUMN": advice.remove_field_over_two_releases(quote),
    "MR-DROP-TABLE": advice.delete_model_over_two_releases(quote),
}
