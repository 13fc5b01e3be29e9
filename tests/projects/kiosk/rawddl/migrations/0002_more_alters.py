"""More ALTER TABLE forms as RunSQL (MySQL only): generated columns, moves, session settings."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("rawddl", "0001_raw_alters")]

    operations = [
        migrations.RunSQL(
            [
                "ALTER TABLE inventory_item ADD COLUMN doubled bigint AS (quantity * 2) STORED",
                "ALTER TABLE inventory_item ADD COLUMN tripled bigint AS (quantity * 3) VIRTUAL",
                "ALTER TABLE inventory_item MODIFY position integer NULL AFTER name",
                "ALTER TABLE inventory_item RENAME INDEX inventory_item_batch_78632750 "
                "TO item_batch_idx",
                "ALTER TABLE inventory_item AUTO_INCREMENT = 1000",
                "ALTER TABLE inventory_item MODIFY summary longtext CHARACTER SET latin1 NULL",
                "SET SESSION foreign_key_checks = 0",
                "ALTER TABLE inventory_item ADD COLUMN maker_id bigint NULL",
                "ALTER TABLE inventory_item ADD CONSTRAINT item_maker_fk "
                "FOREIGN KEY (maker_id) REFERENCES inventory_supplier (id)",
                "SET SESSION foreign_key_checks = 1",
                "ALTER TABLE inventory_item DROP FOREIGN KEY item_maker_fk",
                "ALTER TABLE inventory_item ADD COLUMN flag integer NULL, "
                "ADD INDEX item_flag_idx (flag)",
                "ALTER TABLE inventory_item DROP PRIMARY KEY, ADD PRIMARY KEY (id, code)",
            ],
            migrations.RunSQL.noop,
        ),
    ]
