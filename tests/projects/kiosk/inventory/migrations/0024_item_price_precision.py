from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0023_item_ean_not_unique")]

    operations = [
        migrations.AlterField(
            "item", "price", models.DecimalField(decimal_places=2, max_digits=10)
        ),
    ]
