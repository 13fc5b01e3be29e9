import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0006_item_serial")]

    operations = [
        migrations.AddField(
            "item",
            "supplier",
            models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, to="inventory.supplier"
            ),
        ),
    ]
