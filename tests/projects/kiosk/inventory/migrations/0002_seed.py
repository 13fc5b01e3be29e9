from django.db import migrations

ITEMS = (
    "INSERT INTO inventory_item (name, label, title, description, code, sku, ean, category, "
    "quantity, weight, stock, price, note) VALUES "
    "('bolt', 'b', 'Bolt', 'steel bolt', 'B1', 'S-1', '4006381333931', 'parts', 10, 5, 3, "
    "1.50, 'zinc'), "
    "('nut', 'n', 'Nut', 'steel nut', 'N1', 'S-2', '4006381333948', 'parts', 20, 2, 8, "
    "0.25, 'plain')"
)


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        migrations.RunSQL(
            ["INSERT INTO inventory_supplier (name) VALUES ('acme')", ITEMS],
            migrations.RunSQL.noop,
        ),
    ]
