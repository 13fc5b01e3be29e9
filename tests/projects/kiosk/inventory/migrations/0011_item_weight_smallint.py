from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0010_item_quantity_bigint")]

    operations = [
        migrations.AlterField("item", "weight", models.SmallIntegerField()),
    ]
