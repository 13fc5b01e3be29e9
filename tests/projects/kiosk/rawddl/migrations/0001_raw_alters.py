"""ALTER TABLE forms that Django operations never write, as RunSQL (MySQL only)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0032_item_discontinued")]

    operations = [
        migrations.RunSQL(
            [
                "ALTER TABLE inventory_item ADD COLUMN state enum('new','used') NULL",
                "ALTER TABLE inventory_item MODIFY state enum('new','used','broken') NULL",
                "ALTER TABLE inventory_item MODIFY state enum('broken','new','used') NULL",
                "ALTER TABLE inventory_item ADD COLUMN position integer NULL FIRST",
                "ALTER TABLE inventory_item ALTER COLUMN stock SET DEFAULT 1",
                "ALTER TABLE inventory_item CHANGE COLUMN summary blurb longtext NULL",
                "ALTER TABLE inventory_item CHANGE COLUMN blurb summary longtext NULL",
                "ALTER TABLE inventory_item ENGINE=InnoDB",
                "ALTER TABLE inventory_supplier ADD FULLTEXT INDEX supplier_name_ft (name)",
            ],
            migrations.RunSQL.noop,
        ),
    ]
