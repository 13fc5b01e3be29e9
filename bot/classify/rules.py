"""The rule catalogue: one rule, one place, one id, one documentation entry.

Three families:

- ``lock``: the statement blocks traffic for as long as it works. Its risk is not fixed here but
  computed from the verdict (``risk.assess``), so the trace can raise or lower it; ``risk`` below
  is the typical value, shown in the docs.
- ``hazard``: a danger the locks don't show (running code breaks, rows are lost, the migration
  fails). Its risk is the rule's.
- ``migration``: about the migration file rather than one statement.

``deploy_order`` and ``restates`` tell ``bot.consolidate`` which findings a decision is made on.

``docs/rules.md`` is generated from this module (``python -m bot.classify.docs``); a test fails
when it is out of date, and another runs every SQL example through the classifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.models import Risk

Family = Literal["lock", "hazard", "migration"]


@dataclass(frozen=True)
class Example:
    lang: Literal["sql", "mysql", "sqlite", "python"]
    """sql is PostgreSQL's."""
    code: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    risk: Risk
    family: Family
    message: str
    """What is wrong, with {placeholders} filled from the statement."""
    why: str
    """Why it hurts in production."""
    bad: Example
    safe: Example
    deploy_order: bool = False
    """About the previous release still serving while the migration runs: off when the team
    deploys with downtime (``deploy = "downtime"``)."""
    restates: bool = False
    """Reports the lock of another statement again (held until COMMIT, or run by ``migrate``
    beyond ``sqlmigrate``): its finding folds into the other lock finding of its operation."""


_FALLBACK = {
    "table": "the table",
    "column": "the column",
    "index": "the index",
    "constraint": "the constraint",
    "referenced": "the referenced table",
    "old_type": "its old type",
    "new_type": "the new type",
    "held": "a lock",
    "held_table": "a table",
    "version": "this version",
    "operation": "the change",
    "lock": "SHARED",
    "algorithm": "INPLACE",
    "how": "a copy",
    "subject": "This statement",
    "old_file": "its old path",
}


class _Fill(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return _FALLBACK.get(key, key)


def fill(template: str, values: dict[str, str]) -> str:
    return template.format_map(_Fill({k: v for k, v in values.items() if v is not None}))


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}


RULES = _rules(
    Rule(
        id="MR-LOCK-INDEX",
        title="CREATE INDEX without CONCURRENTLY blocks writes",
        risk=Risk.high,
        family="lock",
        message=(
            "`CREATE INDEX` on `{table}` holds a SHARE lock on it for the whole build: every "
            "INSERT, UPDATE and DELETE waits until the index is built (reads go on)."
        ),
        why=(
            "The build reads the whole table, so on a large table writes stop for minutes, "
            "requests pile up and time out."
        ),
        bad=Example("sql", "CREATE INDEX shop_order_status_idx ON shop_order (status);"),
        safe=Example(
            "python",
            """\
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("shop", "0007_order_paid_at")]

    operations = [
        AddIndexConcurrently(
            "order", models.Index(fields=["status"], name="shop_order_status_idx")
        ),
    ]""",
        ),
    ),
    Rule(
        id="MR-CONCURRENTLY-IN-TRANSACTION",
        title="A statement that cannot run in a transaction is inside one",
        risk=Risk.high,
        family="hazard",
        message=(
            "`{statement}` runs inside a transaction (an atomic migration or a BEGIN block): "
            "PostgreSQL refuses it with 'cannot run inside a transaction block'."
        ),
        why="The migration fails at deploy time, after the earlier migrations were applied.",
        bad=Example(
            "sql",
            "BEGIN;\nCREATE INDEX CONCURRENTLY shop_order_status_idx ON shop_order (status);\n"
            "COMMIT;",
        ),
        safe=Example(
            "python",
            """\
class Migration(migrations.Migration):
    atomic = False  # required by AddIndexConcurrently / RemoveIndexConcurrently
    operations = [
        AddIndexConcurrently(
            "order", models.Index(fields=["status"], name="shop_order_status_idx")
        ),
    ]""",
        ),
    ),
    Rule(
        id="MR-DROP-INDEX",
        title="DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
        risk=Risk.low,
        family="lock",
        message=(
            "`DROP INDEX` takes an ACCESS EXCLUSIVE lock on `{table}`: it is quick once granted, "
            "but it waits behind every running query on the table, and every query waits "
            "behind it."
        ),
        why=(
            "Behind one long-running SELECT, the waiting DROP INDEX queues all reads and writes "
            "of the table: a short outage out of an instant operation."
        ),
        bad=Example("sql", "DROP INDEX shop_order_status_idx;"),
        safe=Example(
            "python",
            """\
from django.contrib.postgres.operations import RemoveIndexConcurrently


class Migration(migrations.Migration):
    atomic = False
    operations = [RemoveIndexConcurrently("order", "shop_order_status_idx")]""",
        ),
    ),
    Rule(
        id="MR-ADD-UNIQUE",
        title="Adding a UNIQUE, PRIMARY KEY or EXCLUDE constraint builds its index under ACCESS "
        "EXCLUSIVE",
        risk=Risk.high,
        family="lock",
        message=(
            "Adding the constraint `{constraint}` builds its index while holding an ACCESS "
            "EXCLUSIVE lock on `{table}`: nothing can read or write the table until the whole "
            "table is indexed."
        ),
        why="The table is unavailable for as long as the index build takes.",
        bad=Example(
            "sql",
            "ALTER TABLE shop_customer ADD CONSTRAINT shop_customer_email_uniq UNIQUE (email);",
        ),
        safe=Example(
            "sql",
            "CREATE UNIQUE INDEX CONCURRENTLY shop_customer_email_uniq ON shop_customer (email);\n"
            "ALTER TABLE shop_customer ADD CONSTRAINT shop_customer_email_uniq\n"
            "    UNIQUE USING INDEX shop_customer_email_uniq;",
        ),
    ),
    Rule(
        id="MR-ADD-CHECK",
        title="Adding a CHECK constraint scans the table under ACCESS EXCLUSIVE",
        risk=Risk.high,
        family="lock",
        message=(
            "Adding the CHECK constraint `{constraint}` validates every row of `{table}` while "
            "holding an ACCESS EXCLUSIVE lock: reads and writes wait for the whole scan."
        ),
        why="On a large table the scan takes long enough to time out every request using it.",
        bad=Example(
            "sql",
            "ALTER TABLE shop_order ADD CONSTRAINT shop_order_total_positive CHECK (total >= 0);",
        ),
        safe=Example(
            "python",
            """\
from django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint

# migration 1: instant, the constraint applies to new rows only
operations = [
    AddConstraintNotValid(
        "order",
        models.CheckConstraint(condition=models.Q(total__gte=0), name="shop_order_total_positive"),
    ),
]
# migration 2: scans with SHARE UPDATE EXCLUSIVE, reads and writes go on
operations = [ValidateConstraint("order", "shop_order_total_positive")]""",
        ),
    ),
    Rule(
        id="MR-ADD-FOREIGN-KEY",
        title="Adding a validated FOREIGN KEY blocks writes on both tables",
        risk=Risk.high,
        family="lock",
        message=(
            "Adding the foreign key `{constraint}` takes SHARE ROW EXCLUSIVE locks on `{table}` "
            "and on `{referenced}` and checks every existing row: writes to both tables wait "
            "for the scan."
        ),
        why=(
            "The referenced table is often the busiest one (users, accounts): blocking its writes "
            "for the length of a scan of the other table stalls the whole application."
        ),
        bad=Example(
            "sql",
            "ALTER TABLE lending_loan ADD CONSTRAINT lending_loan_customer_fk\n"
            "    FOREIGN KEY (customer_id) REFERENCES shop_customer (id);",
        ),
        safe=Example(
            "sql",
            "ALTER TABLE lending_loan ADD CONSTRAINT lending_loan_customer_fk\n"
            "    FOREIGN KEY (customer_id) REFERENCES shop_customer (id) NOT VALID;\n"
            "-- in a later migration: SHARE UPDATE EXCLUSIVE, traffic goes on\n"
            "ALTER TABLE lending_loan VALIDATE CONSTRAINT lending_loan_customer_fk;",
        ),
    ),
    Rule(
        id="MR-SET-NOT-NULL",
        title="SET NOT NULL scans the table under ACCESS EXCLUSIVE",
        risk=Risk.high,
        family="lock",
        message=(
            "`SET NOT NULL` on `{table}`.`{column}` checks every row while holding an ACCESS "
            "EXCLUSIVE lock: reads and writes wait for the scan."
        ),
        why=(
            "From PostgreSQL 12 the scan is skipped when a validated `CHECK ({column} IS NOT "
            "NULL)` exists, and that constraint can be validated without blocking traffic."
        ),
        bad=Example("sql", "ALTER TABLE shop_customer ALTER COLUMN phone SET NOT NULL;"),
        safe=Example(
            "sql",
            "ALTER TABLE shop_customer ADD CONSTRAINT shop_customer_phone_nn\n"
            "    CHECK (phone IS NOT NULL) NOT VALID;\n"
            "ALTER TABLE shop_customer VALIDATE CONSTRAINT shop_customer_phone_nn;\n"
            "-- PostgreSQL 12+: no scan, the validated CHECK proves it\n"
            "ALTER TABLE shop_customer ALTER COLUMN phone SET NOT NULL;\n"
            "ALTER TABLE shop_customer DROP CONSTRAINT shop_customer_phone_nn;",
        ),
    ),
    Rule(
        id="MR-ADD-COLUMN-NOT-NULL",
        title="Adding a NOT NULL column without a default fails on a non-empty table",
        risk=Risk.medium,
        family="hazard",
        message=(
            "`{column}` is added to `{table}` as NOT NULL with no default: PostgreSQL scans the "
            "table and the statement fails as soon as the table has a row."
        ),
        why="It passes on an empty development database and fails in production.",
        bad=Example("sql", "ALTER TABLE shop_customer ADD COLUMN tier integer NOT NULL;"),
        safe=Example(
            "sql", "ALTER TABLE shop_customer ADD COLUMN tier integer DEFAULT 0 NOT NULL;"
        ),
    ),
    Rule(
        id="MR-ADD-COLUMN-DEFAULT-VOLATILE",
        title="Adding a column with a volatile default rewrites the table",
        risk=Risk.critical,
        family="lock",
        message=(
            "`{column}` is added to `{table}` with a volatile default ({detail}): PostgreSQL "
            "computes it for every existing row, rewriting the whole table under an ACCESS "
            "EXCLUSIVE lock."
        ),
        why=(
            "Reads and writes stop for the whole rewrite, and the table needs twice its disk "
            "space while it runs. A constant default would be instant (PostgreSQL 11+)."
        ),
        bad=Example(
            "sql", "ALTER TABLE shop_order ADD COLUMN token uuid DEFAULT gen_random_uuid();"
        ),
        safe=Example(
            "sql",
            "ALTER TABLE shop_order ADD COLUMN token uuid;  -- instant\n"
            "ALTER TABLE shop_order ALTER COLUMN token SET DEFAULT gen_random_uuid();\n"
            "-- then backfill the existing rows in batches, outside the migration's transaction",
        ),
    ),
    Rule(
        id="MR-ADD-COLUMN-DEFAULT-PRE11",
        title="Before PostgreSQL 11, adding a column with a default rewrites the table",
        risk=Risk.critical,
        family="lock",
        message=(
            "`{column}` is added to `{table}` with a default on PostgreSQL {version}: every row "
            "is rewritten under an ACCESS EXCLUSIVE lock (PostgreSQL 11 made this instant)."
        ),
        why="Reads and writes stop for the whole rewrite.",
        bad=Example("sql", "ALTER TABLE shop_order ADD COLUMN priority integer DEFAULT 0;"),
        safe=Example(
            "sql",
            "ALTER TABLE shop_order ADD COLUMN priority integer;\n"
            "ALTER TABLE shop_order ALTER COLUMN priority SET DEFAULT 0;\n"
            "-- then backfill existing rows in batches",
        ),
    ),
    Rule(
        id="MR-ADD-COLUMN-GENERATED",
        title="Adding an identity, serial or stored generated column rewrites the table",
        risk=Risk.critical,
        family="lock",
        message=(
            "`{column}` is added to `{table}` as {detail}: PostgreSQL fills it for every existing "
            "row, rewriting the table under an ACCESS EXCLUSIVE lock."
        ),
        why="Reads and writes stop for the whole rewrite.",
        bad=Example(
            "sql",
            "ALTER TABLE shop_order ADD COLUMN total_cents bigint\n"
            "    GENERATED ALWAYS AS (total * 100) STORED;",
        ),
        safe=Example(
            "sql",
            "ALTER TABLE shop_order ADD COLUMN total_cents bigint;  -- instant\n"
            "-- fill it from application code or a trigger, backfill in batches",
        ),
    ),
    Rule(
        id="MR-ALTER-COLUMN-TYPE",
        title="Changing a column's type rewrites the table",
        risk=Risk.critical,
        family="lock",
        message=(
            "Changing `{table}`.`{column}` from {old_type} to {new_type} rewrites the table and "
            "rebuilds its indexes under an ACCESS EXCLUSIVE lock."
        ),
        why=(
            "Reads and writes stop for the whole rewrite. Only binary-compatible changes are "
            "instant (a longer varchar, varchar to text, a wider numeric precision)."
        ),
        bad=Example("sql", "ALTER TABLE shop_order ALTER COLUMN quantity TYPE bigint;"),
        safe=Example(
            "sql",
            "-- 1. add the new column, write both from the application\n"
            "ALTER TABLE shop_order ADD COLUMN quantity_new bigint;\n"
            "-- 2. backfill quantity_new in batches\n"
            "-- 3. switch reads to quantity_new, then drop quantity in a later release",
        ),
    ),
    Rule(
        id="MR-REWRITE-TABLE",
        title="The statement rewrites the whole table under ACCESS EXCLUSIVE",
        risk=Risk.critical,
        family="lock",
        message="`{statement}` rewrites `{table}` while holding an ACCESS EXCLUSIVE lock.",
        why="Reads and writes stop for as long as it takes to copy the table.",
        bad=Example("sql", "VACUUM FULL shop_order;"),
        safe=Example(
            "sql",
            "-- pg_repack (or pg_squeeze) rebuilds a table online; plain VACUUM does not block",
        ),
    ),
    Rule(
        id="MR-REINDEX",
        title="REINDEX without CONCURRENTLY blocks writes",
        risk=Risk.high,
        family="lock",
        message="`REINDEX` rebuilds indexes of `{table}` while holding a SHARE lock on it.",
        why="Writes wait for the whole rebuild.",
        bad=Example("sql", "REINDEX TABLE shop_order;"),
        safe=Example("sql", "REINDEX TABLE CONCURRENTLY shop_order;  -- PostgreSQL 12+"),
    ),
    Rule(
        id="MR-WORK-UNDER-HELD-LOCK",
        title="A slow step runs while an earlier statement's lock is still held",
        risk=Risk.high,
        family="lock",
        message=(
            "{subject} does work that grows with the table while {held} on `{held_table}`, "
            "taken earlier in the same transaction, is still held: the lock lasts until COMMIT, "
            "so {held_blocks} wait for this step too."
        ),
        why=(
            "An instant change (ADD COLUMN, SET DEFAULT) becomes as long as the slowest step "
            "after it in the same atomic migration."
        ),
        bad=Example(
            "sql",
            "BEGIN;\n"
            "ALTER TABLE shop_order ADD COLUMN paid boolean;\n"
            "UPDATE shop_order SET paid = false WHERE paid IS NULL;\n"
            "COMMIT;",
        ),
        safe=Example(
            "python",
            """\
# 0008_order_paid.py: the schema change alone, committed at once
operations = [migrations.AddField("order", "paid", models.BooleanField(null=True))]


# 0009_backfill_order_paid.py: the slow step in its own, non-atomic migration
class Migration(migrations.Migration):
    atomic = False
    operations = [migrations.RunPython(backfill_in_batches, migrations.RunPython.noop)]""",
        ),
        restates=True,
    ),
    Rule(
        id="MR-UNRENDERED-SQL",
        title="`migrate` runs SQL that `sqlmigrate` does not show",
        risk=Risk.low,
        family="lock",
        message=(
            "For “{operation}”, `migrate` runs {count} statement(s) that `sqlmigrate` does not "
            "print: {statements}. {locks}"
        ),
        why=(
            "`sqlmigrate` renders every operation against the database as it was before the "
            "migration, `migrate` against the schema the earlier operations left: a review of "
            "the `sqlmigrate` output alone misses these statements and their locks, such as the "
            "ACCESS EXCLUSIVE lock dropping a foreign key takes on the table it references."
        ),
        bad=Example(
            "python",
            """\
operations = [
    migrations.AddField("event", "spare", models.ForeignKey("rack", models.SET_NULL, null=True)),
    migrations.RemoveField("event", "spare"),  # migrate also drops the FK: locks store_rack
]""",
        ),
        safe=Example(
            "python",
            """\
# Split the operations into separate migrations, so that sqlmigrate renders each one
# against the schema it runs on and shows every statement, e.g. 0014_event_spare:
operations = [
    migrations.AddField("event", "spare", models.ForeignKey("rack", models.SET_NULL, null=True)),
]
# and 0015_remove_event_spare:
operations = [migrations.RemoveField("event", "spare")]""",
        ),
        restates=True,
    ),
    Rule(
        id="MR-DROP-COLUMN",
        title="Dropping a column breaks the code still running",
        risk=Risk.high,
        family="hazard",
        message=(
            "`{column}` is dropped from `{table}` while the previous release of the application, "
            "still serving requests during the deploy, selects it."
        ),
        why=(
            "Django selects every field of a model explicitly: until every process runs the new "
            "code, queries on `{table}` fail with 'column does not exist'."
        ),
        bad=Example("sql", "ALTER TABLE shop_customer DROP COLUMN fax;"),
        safe=Example(
            "python",
            """\
# release 1: remove the field from the model, keep the column (make it nullable first if needed)
operations = [
    migrations.SeparateDatabaseAndState(
        state_operations=[migrations.RemoveField("customer", "fax")],
        database_operations=[],
    ),
]
# release 2, once no running code knows the field:
operations = [
    migrations.RunSQL('ALTER TABLE "shop_customer" DROP COLUMN "fax"', migrations.RunSQL.noop),
]""",
        ),
        deploy_order=True,
    ),
    Rule(
        id="MR-DROP-TABLE",
        title="Dropping a table breaks the code still running and loses its rows",
        risk=Risk.high,
        family="hazard",
        message=(
            "`{table}` is dropped: the previous release, still running during the deploy, may "
            "query it, and its rows are gone for good."
        ),
        why=(
            "DROP TABLE also takes ACCESS EXCLUSIVE locks on every table it has foreign keys to "
            "(and, with CASCADE, on the tables referencing it)."
        ),
        bad=Example("sql", "DROP TABLE shop_wishlist CASCADE;"),
        safe=Example(
            "python",
            """\
# release 1: delete the model from the code, keep the table
operations = [
    migrations.SeparateDatabaseAndState(
        state_operations=[migrations.DeleteModel("wishlist")], database_operations=[]
    ),
]
# release 2 (after a backup, if the rows matter):
operations = [migrations.RunSQL('DROP TABLE "shop_wishlist"', migrations.RunSQL.noop)]""",
        ),
        deploy_order=True,
    ),
    Rule(
        id="MR-RENAME-COLUMN",
        title="Renaming a column breaks the code still running",
        risk=Risk.high,
        family="hazard",
        message=(
            "`{table}`.`{column}` is renamed: the previous release, still serving requests during "
            "the deploy, uses the old name and fails."
        ),
        why="Every query of the old code on this table errors until the deploy finishes.",
        bad=Example("sql", "ALTER TABLE shop_product RENAME COLUMN title TO name;"),
        safe=Example(
            "python",
            """\
# Rename the field in Python only, keep the column name in the database:
operations = [
    migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.RenameField("product", "title", "name"),
            migrations.AlterField(
                "product", "name", models.CharField(max_length=200, db_column="title")
            ),
        ],
        database_operations=[],
    ),
]""",
        ),
        deploy_order=True,
    ),
    Rule(
        id="MR-RENAME-TABLE",
        title="Renaming a table breaks the code still running",
        risk=Risk.high,
        family="hazard",
        message=(
            "`{table}` is renamed: the previous release, still serving requests during the "
            "deploy, queries the old name and fails."
        ),
        why="Every query of the old code on this table errors until the deploy finishes.",
        bad=Example("sql", "ALTER TABLE shop_item RENAME TO shop_product;"),
        safe=Example(
            "python",
            """\
# Rename the model in Python only, keep the table name:
operations = [
    migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.RenameModel("Item", "Product"),
            migrations.AlterModelTable("product", "shop_item"),
        ],
        database_operations=[],
    ),
]""",
        ),
        deploy_order=True,
    ),
    Rule(
        id="MR-TRUNCATE",
        title="TRUNCATE deletes every row under ACCESS EXCLUSIVE",
        risk=Risk.high,
        family="hazard",
        message="`TRUNCATE` empties `{table}`: every row is gone and cannot be brought back.",
        why="A migration runs on every environment, production included.",
        bad=Example("sql", "TRUNCATE shop_cart;"),
        safe=Example("sql", "-- delete what must go, in batches, with a WHERE clause"),
    ),
    Rule(
        id="MR-DML-UNBOUNDED",
        title="UPDATE or DELETE of every row in one statement",
        risk=Risk.medium,
        family="hazard",
        message=(
            "`{statement}` has no WHERE clause: it changes every row of `{table}` in one "
            "transaction, locking each row until COMMIT."
        ),
        why=(
            "Concurrent updates of those rows wait for the whole statement; the long "
            "transaction bloats the table and delays replicas."
        ),
        bad=Example("sql", "UPDATE shop_order SET status = 'new';"),
        safe=Example(
            "python",
            """\
from django.db import migrations, transaction


def backfill(apps, schema_editor):
    Order = apps.get_model("shop", "Order")
    while True:
        with transaction.atomic():
            batch = list(Order.objects.filter(status="").values_list("pk", flat=True)[:5000])
            if not batch:
                break
            Order.objects.filter(pk__in=batch).update(status="new")


class Migration(migrations.Migration):
    atomic = False
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]""",
        ),
    ),
    Rule(
        id="MR-DML",
        title="Data change in a migration",
        risk=Risk.low,
        family="hazard",
        message=(
            "`{statement}` changes rows of `{table}`: they stay locked until the migration commits."
        ),
        why="The more rows it matches in production, the longer concurrent updates wait.",
        bad=Example("sql", "UPDATE shop_order SET status = 'new' WHERE status = '';"),
        safe=Example("sql", "-- keep it small, or batch it in a non-atomic data migration"),
    ),
    Rule(
        id="MR-UNRECOGNISED",
        title="Statement not recognised: needs review",
        risk=Risk.medium,
        family="hazard",
        message=(
            "The classifier does not know what `{statement}` locks or how long it runs; a person "
            "must check it."
        ),
        why="Unknown is not safe: review it, then acknowledge it with an ignore and a reason.",
        bad=Example("sql", "DO $$ BEGIN PERFORM 1; END $$;"),
        safe=Example("sql", "-- plain statements the classifier (and your reviewers) can read"),
    ),
    Rule(
        id="MR-DATA-MIGRATION",
        title="RunPython data migration",
        risk=Risk.medium,
        family="migration",
        message=(
            "`RunPython({code})` runs Python against production data inside the deploy{where}."
        ),
        why=(
            "Its duration grows with the data, its row locks last until the migration commits, "
            "and it holds every lock taken before it in the same atomic migration."
        ),
        bad=Example(
            "python",
            """\
operations = [
    migrations.AddField("order", "status", models.CharField(max_length=20, null=True)),
    migrations.RunPython(fill_status),  # same transaction as the ALTER TABLE
]""",
        ),
        safe=Example(
            "python",
            """\
class Migration(migrations.Migration):
    atomic = False  # batches commit one by one
    operations = [migrations.RunPython(fill_status_in_batches, migrations.RunPython.noop)]""",
        ),
    ),
    Rule(
        id="MR-NO-REVERSE",
        title="RunPython or RunSQL without a reverse",
        risk=Risk.low,
        family="migration",
        message="`{kind}({code})` has no reverse: the migration cannot be rolled back.",
        why="A failed deploy then needs a hand-written fix instead of `migrate app previous`.",
        bad=Example("python", "migrations.RunPython(fill_status)"),
        safe=Example("python", "migrations.RunPython(fill_status, migrations.RunPython.noop)"),
    ),
    Rule(
        id="MR-NONATOMIC-DDL",
        title="Non-atomic migration mixes schema changes",
        risk=Risk.medium,
        family="migration",
        message=(
            "The migration sets `atomic = False` and also runs {count} statement(s) that could "
            "run in a transaction: if a later step fails, the earlier ones stay applied and "
            "Django records nothing."
        ),
        why="Re-running the migration then fails on what is already there.",
        bad=Example(
            "python",
            """\
class Migration(migrations.Migration):
    atomic = False
    operations = [
        migrations.AddField("order", "note", models.TextField(null=True)),
        AddIndexConcurrently("order", models.Index(fields=["status"], name="order_status_idx")),
    ]""",
        ),
        safe=Example(
            "python",
            "# Put the concurrent index operations alone in their own non-atomic migration.",
        ),
    ),
    Rule(
        id="MR-NO-LOCK-TIMEOUT",
        title="Blocking locks taken without a lock_timeout",
        risk=Risk.low,
        family="migration",
        message=(
            "The migration takes locks that block traffic on {tables} and sets no "
            "`lock_timeout`: if a long query holds the table, the migration waits, and every "
            "query behind it waits too."
        ),
        why=(
            "PostgreSQL queues lock requests: a waiting ACCESS EXCLUSIVE request blocks even "
            "plain SELECTs arriving after it. With a lock_timeout the migration fails fast and "
            "can be retried instead."
        ),
        bad=Example("python", "operations = [migrations.AddField(...)]  # waits forever"),
        safe=Example(
            "python",
            """\
operations = [
    migrations.RunSQL("SET LOCAL lock_timeout = '5s'", migrations.RunSQL.noop),
    migrations.AddField(...),
]""",
        ),
    ),
    Rule(
        id="MR-MYSQL-COPY-ALTER",
        title="ALTER TABLE copies the whole table (ALGORITHM=COPY)",
        risk=Risk.high,
        family="lock",
        message=(
            "`{operation}` cannot be done in place: MySQL copies `{table}` row by row into a new "
            "table (ALGORITHM=COPY, LOCK={lock}), then swaps the two."
        ),
        why=(
            "Under LOCK=SHARED every INSERT, UPDATE and DELETE on the table waits for the whole "
            "copy (reads go on); the copy needs the table's size again in free disk, and "
            "replicas replay it only once it is done, lagging for as long."
        ),
        bad=Example("mysql", "ALTER TABLE shop_order MODIFY quantity bigint NOT NULL;"),
        safe=Example(
            "mysql",
            "-- copy in the background while writes go on, outside the migration:\n"
            "--   pt-online-schema-change --alter 'MODIFY quantity bigint NOT NULL' \\\n"
            "--       D=shop,t=shop_order --execute        (or gh-ost)\n"
            "-- then record the change in Django's state only (SeparateDatabaseAndState)",
        ),
    ),
    Rule(
        id="MR-MYSQL-ADD-FOREIGN-KEY",
        title="Adding a foreign key copies the table (foreign_key_checks=1)",
        risk=Risk.high,
        family="lock",
        message=(
            "`{operation}` adds a foreign key with foreign_key_checks=1: MySQL copies `{table}` "
            "(ALGORITHM=COPY, LOCK={lock}) to check every row against the referenced table."
        ),
        why=(
            "Writes to the table wait for the whole copy. With foreign_key_checks=0 the "
            "constraint is added in place, without a copy and with writes going on, but then "
            "nothing checks the existing rows: check them first."
        ),
        bad=Example(
            "mysql",
            "ALTER TABLE lending_loan ADD CONSTRAINT lending_loan_customer_fk\n"
            "    FOREIGN KEY (customer_id) REFERENCES shop_customer (id);",
        ),
        safe=Example(
            "mysql",
            "-- first, no orphan rows (this must return nothing):\n"
            "SELECT l.id FROM lending_loan l LEFT JOIN shop_customer c ON c.id = l.customer_id\n"
            "WHERE l.customer_id IS NOT NULL AND c.id IS NULL LIMIT 1;\n"
            "SET SESSION foreign_key_checks = 0;\n"
            "ALTER TABLE lending_loan ADD CONSTRAINT lending_loan_customer_fk\n"
            "    FOREIGN KEY (customer_id) REFERENCES shop_customer (id),\n"
            "    ALGORITHM=INPLACE, LOCK=NONE;\n"
            "SET SESSION foreign_key_checks = 1;",
        ),
    ),
    Rule(
        id="MR-MYSQL-LOCKING-ALTER",
        title="An in-place ALTER that still blocks writes (LOCK=SHARED)",
        risk=Risk.high,
        family="lock",
        message=(
            "`{operation}` runs in place (ALGORITHM={algorithm}), but MySQL cannot let writes "
            "through meanwhile: it holds LOCK={lock} on `{table}` for the whole operation."
        ),
        why=(
            "FULLTEXT and SPATIAL indexes, AUTO_INCREMENT columns, and rebuilds of tables that "
            "have such indexes cannot run with LOCK=NONE: writes wait for as long as the table "
            "takes to process."
        ),
        bad=Example(
            "mysql", "ALTER TABLE shop_product ADD FULLTEXT INDEX shop_product_name_ft (name);"
        ),
        safe=Example(
            "mysql",
            "-- build it with an online schema change tool (gh-ost, pt-online-schema-change),\n"
            "-- or when writes can wait; then record it with SeparateDatabaseAndState",
        ),
    ),
    Rule(
        id="MR-MYSQL-REBUILD",
        title="ALTER TABLE rebuilds the table in place",
        risk=Risk.low,
        family="lock",
        message=(
            "`{operation}` rebuilds `{table}` in place (ALGORITHM=INPLACE, LOCK={lock}): reads "
            "and writes go on, but every row is rewritten and every index rebuilt."
        ),
        why=(
            "It runs as long as a copy of the table and needs that much free disk; replicas "
            "apply it only once it is done on the primary, and lag for as long. Its exclusive "
            "metadata lock, at the start and the end, waits for open transactions on the table."
        ),
        bad=Example(
            "mysql",
            "ALTER TABLE shop_order ADD COLUMN paid_at datetime(6) NULL,\n"
            "    ADD INDEX shop_order_paid_at_idx (paid_at);",
        ),
        safe=Example(
            "mysql",
            "-- instant on its own (MySQL 8.0.12+, MariaDB 10.3+)\n"
            "ALTER TABLE shop_order ADD COLUMN paid_at datetime(6) NULL;\n"
            "-- builds the index without rebuilding the table\n"
            "CREATE INDEX shop_order_paid_at_idx ON shop_order (paid_at);",
        ),
    ),
    Rule(
        id="MR-SQLITE-REWRITE",
        title="A table is rewritten under SQLite's database write lock",
        risk=Risk.high,
        family="lock",
        message=(
            "`{table}` is rewritten ({how}) while the migration holds SQLite's write lock on the "
            "whole database: no other connection writes to any table until it commits."
        ),
        why=(
            "The rewrite takes as long as the table is big. Reads go on in WAL mode; in the "
            "default rollback-journal mode they also wait once the rewrite outgrows the page "
            "cache, and while it commits."
        ),
        bad=Example(
            "sqlite",
            'CREATE TABLE "new__shop_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,\n'
            '    "quantity" bigint NOT NULL);\n'
            'INSERT INTO "new__shop_order" ("id", "quantity")\n'
            '    SELECT "id", "quantity" FROM "shop_order";\n'
            'DROP TABLE "shop_order";\n'
            'ALTER TABLE "new__shop_order" RENAME TO "shop_order";',
        ),
        safe=Example(
            "sqlite",
            "-- a nullable column without a default is added without a rewrite\n"
            'ALTER TABLE "shop_order" ADD COLUMN "note" text NULL;\n'
            "-- any other change of a large table: when writes can wait (a maintenance window)",
        ),
    ),
    Rule(
        id="MR-SQLITE-INDEX",
        title="CREATE INDEX reads the table under SQLite's database write lock",
        risk=Risk.high,
        family="lock",
        message=(
            "Building an index on `{table}` reads every row while the migration holds SQLite's "
            "write lock on the whole database."
        ),
        why="No other connection writes to any table until the index is built and committed.",
        bad=Example("sqlite", 'CREATE INDEX "shop_order_status_idx" ON "shop_order" ("status");'),
        safe=Example(
            "sqlite",
            "-- build it when writes can wait, in a migration of its own, so that the lock ends\n"
            "-- as soon as the index is built",
        ),
    ),
    Rule(
        id="MR-MYSQL-NO-LOCK-WAIT-TIMEOUT",
        title="ALTER TABLE without a lock_wait_timeout",
        risk=Risk.low,
        family="migration",
        message=(
            "The migration alters {tables} with no `lock_wait_timeout` set: each ALTER waits "
            "for the table's metadata lock behind every open transaction that used the table "
            "(for up to a year, the default), and every query on the table queues behind it."
        ),
        why=(
            "One long transaction, or a session idle in one, stops all traffic on the table "
            "while the ALTER waits. With a short lock_wait_timeout the migration fails fast and "
            "can be retried."
        ),
        bad=Example("python", "operations = [migrations.AddField(...)]  # waits up to a year"),
        safe=Example(
            "python",
            """\
operations = [
    migrations.RunSQL("SET SESSION lock_wait_timeout = 5", migrations.RunSQL.noop),
    migrations.AddField(...),
]""",
        ),
    ),
    Rule(
        id="MR-MIGRATION-MODIFIED",
        title="A merged migration was modified",
        risk=Risk.high,
        family="migration",
        message="`{file}` already exists on the base branch and this change edits it.",
        why=(
            "Databases that already applied it will never run the new version: environments "
            "silently drift apart."
        ),
        bad=Example("python", "# editing shop/migrations/0003_order_status.py after merge"),
        safe=Example("python", "# revert the edit and add a new migration with the change"),
    ),
    Rule(
        id="MR-MIGRATION-DELETED",
        title="A merged migration was deleted",
        risk=Risk.high,
        family="migration",
        message="`{file}` exists on the base branch and this change deletes it.",
        why=(
            "Databases that applied it keep its changes, later migrations that depend on it stop "
            "loading, and fresh databases lose its schema."
        ),
        bad=Example("python", "# git rm shop/migrations/0003_order_status.py"),
        safe=Example(
            "python", "# keep it; to undo its effect, add a new migration (or squash properly)"
        ),
    ),
    Rule(
        id="MR-MIGRATION-RENAMED",
        title="A merged migration was renamed",
        risk=Risk.high,
        family="migration",
        message="`{old_file}` was renamed to `{file}`, and its old name is already on the base "
        "branch.",
        why=(
            "Django knows migrations by name: databases that applied the old name run it again "
            "under the new one, and migrations depending on the old name stop loading."
        ),
        bad=Example("python", "# git mv 0003_order_status.py 0003_status.py"),
        safe=Example("python", "# keep the merged name"),
    ),
    Rule(
        id="MR-NOT-NULL-WITHOUT-DB-DEFAULT",
        title="A NOT NULL column without a database default",
        risk=Risk.high,
        family="hazard",
        deploy_order=True,
        message=(
            "`{operation}` adds `{table}.{column}` as NOT NULL with a default only Django knows: "
            "Django writes `ADD COLUMN ... DEFAULT {default} NOT NULL` to fill the existing rows, "
            "then `DROP DEFAULT`, so the column has no default in the database."
        ),
        why=(
            "While the deploy runs, the release still serving does not know the column: each of "
            "its INSERTs into `{table}` leaves it out and fails with a NOT NULL violation until "
            "every server runs the new code."
        ),
        bad=Example(
            "python",
            'migrations.AddField("order", "priority", models.IntegerField(default=0))',
        ),
        safe=Example(
            "python",
            "# Django >= 5.0: the database keeps the default, old INSERTs still work\n"
            'migrations.AddField("order", "priority", models.IntegerField(db_default=0))',
        ),
    ),
    Rule(
        id="MR-ROLLBACK-FAILS",
        title="The migration cannot be rolled back",
        risk=Risk.medium,
        family="migration",
        message=(
            "Migrated backwards on the scratch database right after it was applied, "
            "{what} failed: {error}"
        ),
        why=(
            "Rollbacks happen during incidents: `migrate {app} {previous}` then fails when it is "
            "needed most, and the fix is written by hand on a live database."
        ),
        bad=Example("python", "migrations.RunPython(fill_status)"),
        safe=Example("python", "migrations.RunPython(fill_status, clear_status)"),
    ),
    Rule(
        id="MR-MIGRATION-CONFLICT",
        title="Two leaf migrations in one app",
        risk=Risk.high,
        family="migration",
        message=(
            "At head, `{app}` has {count} leaf migrations ({leaves}): none depends on the others."
        ),
        why=(
            '`migrate` refuses to run ("Conflicting migrations detected"), so the deploy '
            "stops, and the order the two would run in is undefined."
        ),
        bad=Example(
            "python",
            "# 0005_order_note.py and 0005_order_tag.py both depend on 0004_order_status",
        ),
        safe=Example("python", "# python manage.py makemigrations --merge shop"),
    ),
    Rule(
        id="MR-MISSING-MIGRATION",
        title="Models changed without their migration",
        risk=Risk.high,
        family="migration",
        message=(
            "`makemigrations --check` at head would write `{path}`: {operations}. No migration "
            "of the pull request makes these changes."
        ),
        why=(
            "Deployed without it, the code expects columns and tables the database does not "
            "have, and the next developer's `makemigrations` slips the change into an "
            "unrelated migration."
        ),
        bad=Example("python", "# models.py: archived = models.BooleanField(default=False)"),
        safe=Example("python", "# python manage.py makemigrations shop"),
    ),
)
