from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0022_item_ean_unique")]

    operations = [
        migrations.AlterField("item", "ean", models.CharField(max_length=13)),
    ]
