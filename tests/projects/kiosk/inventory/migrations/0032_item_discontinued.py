from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0031_item_weight_db_default")]

    operations = [
        migrations.AddField("item", "discontinued", models.BooleanField(default=False)),
    ]
