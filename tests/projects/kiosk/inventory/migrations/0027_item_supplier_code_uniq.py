from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0026_remove_item_quantity_positive")]

    operations = [
        migrations.AddConstraint(
            "item",
            models.UniqueConstraint(fields=["supplier", "code"], name="item_supplier_code_uniq"),
        ),
    ]
