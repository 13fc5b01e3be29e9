"""What the review offers for each rule with a file recipe, on a small example migration.

``docs/rules.md`` shows these, produced by the same builder the review runs, so the rule
catalogue can never show another shape of code than a review does. Each example is a migration
as ``makemigrations`` writes it, with the SQL Django renders for it on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bot.alternative.build import build
from bot.classify.postgresql import PostgreSQL
from bot.models import (
    AlternativeFile,
    ChangeKind,
    FieldInfo,
    Finding,
    MigrationReview,
    OperationInfo,
    Risk,
    StatementReview,
    Verdict,
)

HEADER = "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
DEPENDENCIES = '    dependencies = [\n        ("shop", "0001_initial"),\n    ]\n\n'


@dataclass
class Example:
    name: str
    operation: str
    kind: str
    statements: list[str]
    table: str = "shop_order"
    field: FieldInfo | None = None
    old_field: FieldInfo | None = None
    models: str | None = None
    partitioned: set[str] = dataclasses.field(default_factory=set)

    def source(self) -> str:
        body = "\n".join("        " + line for line in self.operation.splitlines())
        return f"{HEADER}{DEPENDENCIES}    operations = [\n{body},\n    ]\n"


TEXT = FieldInfo(type="django.db.models.TextField", db_type="text", null=True)
INDEX = Example(
    "0002_order_status_index",
    'migrations.AddIndex(\n    model_name="order",\n'
    '    index=models.Index(fields=["status"], name="shop_order_status_idx"),\n)',
    "AddIndex",
    ['CREATE INDEX "shop_order_status_idx" ON "shop_order" ("status");'],
)
EXAMPLES: dict[str, Example] = {
    "MR-LOCK-INDEX": INDEX,
    "MR-ADD-UNIQUE": Example(
        "0002_customer_email_unique",
        'migrations.AlterField(\n    model_name="customer",\n    name="email",\n'
        "    field=models.CharField(max_length=200, unique=True),\n)",
        "AlterField",
        [
            'ALTER TABLE "shop_customer" ADD CONSTRAINT "shop_customer_email_7c8e3d2a_uniq" '
            'UNIQUE ("email");',
            'CREATE INDEX "shop_customer_email_7c8e3d2a_like" ON "shop_customer" '
            '("email" varchar_pattern_ops);',
        ],
        table="shop_customer",
    ),
    "MR-SET-NOT-NULL": Example(
        "0002_order_note_required",
        'migrations.AlterField(\n    model_name="order",\n    name="note",\n'
        '    field=models.TextField(default=""),\n)',
        "AlterField",
        [
            'ALTER TABLE "shop_order" ALTER COLUMN "note" SET DEFAULT \'\';',
            'UPDATE "shop_order" SET "note" = \'\' WHERE "note" IS NULL; '
            "SET CONSTRAINTS ALL IMMEDIATE;",
            'ALTER TABLE "shop_order" ALTER COLUMN "note" SET NOT NULL;',
            'ALTER TABLE "shop_order" ALTER COLUMN "note" DROP DEFAULT;',
        ],
    ),
    "MR-ADD-FOREIGN-KEY": Example(
        "0002_order_customer_fk",
        'migrations.AlterField(\n    model_name="order",\n    name="customer",\n'
        "    field=models.ForeignKey(\n        on_delete=django.db.models.deletion.PROTECT, "
        'to="shop.customer"\n    ),\n)',
        "AlterField",
        [
            'ALTER TABLE "shop_order" ADD CONSTRAINT '
            '"shop_order_customer_id_3a1f_fk_shop_customer_id" FOREIGN KEY ("customer_id") '
            'REFERENCES "shop_customer" ("id") '
            "DEFERRABLE INITIALLY DEFERRED;",
        ],
    ),
    "MR-ADD-CHECK": Example(
        "0002_order_quantity_positive",
        'migrations.AddConstraint(\n    model_name="order",\n'
        "    constraint=models.CheckConstraint(\n"
        '        condition=models.Q(quantity__gt=0), name="quantity_positive"\n    ),\n)',
        "AddConstraint",
        ['ALTER TABLE "shop_order" ADD CONSTRAINT "quantity_positive" CHECK ("quantity" > 0);'],
    ),
    "MR-DROP-INDEX": Example(
        "0002_remove_order_status_index",
        'migrations.RemoveIndex(\n    model_name="order",\n    name="shop_order_status_idx",\n)',
        "RemoveIndex",
        ['DROP INDEX IF EXISTS "shop_order_status_idx";'],
    ),
    "MR-DROP-COLUMN": Example(
        "0002_remove_customer_fax",
        'migrations.RemoveField(\n    model_name="customer",\n    name="fax",\n)',
        "RemoveField",
        ['ALTER TABLE "shop_customer" DROP COLUMN "fax" CASCADE;'],
        table="shop_customer",
        old_field=FieldInfo(type="django.db.models.CharField", db_type="varchar(30)"),
    ),
    "MR-DROP-TABLE": Example(
        "0002_delete_coupon",
        'migrations.DeleteModel(\n    name="Coupon",\n)',
        "DeleteModel",
        ['DROP TABLE "shop_coupon" CASCADE;'],
        table="shop_coupon",
    ),
    "MR-RENAME-COLUMN": Example(
        "0002_rename_product_title_name",
        'migrations.RenameField(\n    model_name="product",\n    old_name="title",\n'
        '    new_name="name",\n)',
        "RenameField",
        ['ALTER TABLE "shop_product" RENAME COLUMN "title" TO "name";'],
        table="shop_product",
        models="from django.db import models\n\n\nclass Product(models.Model):\n"
        "    name = models.CharField(max_length=200)\n",
    ),
}
PARTITIONED_INDEX = Example(
    "0002_event_kind_index",
    'migrations.AddIndex(\n    model_name="event",\n'
    '    index=models.Index(fields=["kind"], name="shop_event_kind_idx"),\n)',
    "AddIndex",
    ['CREATE INDEX "shop_event_kind_idx" ON "shop_event" ("kind");'],
    table="shop_event",
    partitioned={"shop_event"},
)


def files_for(rule_id: str, example: Example) -> list[AlternativeFile]:
    """The files the review offers for ``example`` when ``rule_id`` is found on it."""
    with tempfile.TemporaryDirectory(prefix="mr-example-") as folder:
        tree = Path(folder)
        path = f"shop/migrations/{example.name}.py"
        (tree / "shop" / "migrations").mkdir(parents=True)
        source = example.source()
        if "django.db.models.deletion" in source:
            source = "import django.db.models.deletion\n" + source
        (tree / path).write_text(source, encoding="utf-8")
        if example.models:
            (tree / "shop" / "models.py").write_text(example.models, encoding="utf-8")
        migration = _review(rule_id, example, path)
        alternative = build(migration, tree, PostgreSQL(17), partitioned=example.partitioned)
    return alternative.files


def _review(rule_id: str, example: Example, path: str) -> MigrationReview:
    verdict = Verdict(source="static")
    return MigrationReview(
        app_label="shop",
        name=example.name,
        file=path,
        change=ChangeKind.added,
        atomic=True,
        operations=[
            OperationInfo(
                index=0,
                kind=example.kind,
                path=f"django.db.migrations.{example.kind}",
                describe=example.kind,
                table=example.table,
                field=example.field,
                old_field=example.old_field,
            )
        ],
        statements=[
            StatementReview(index=n, sql=sql, operation=0, static=verdict, final=verdict)
            for n, sql in enumerate(example.statements)
        ],
        findings=[Finding(rule=rule_id, risk=Risk.high, title="", message="", operation=0)],
    )
