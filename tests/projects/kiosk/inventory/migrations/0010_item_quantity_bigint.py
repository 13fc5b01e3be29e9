from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0009_remove_item_color")]

    operations = [
        migrations.AlterField("item", "quantity", models.BigIntegerField()),
    ]
