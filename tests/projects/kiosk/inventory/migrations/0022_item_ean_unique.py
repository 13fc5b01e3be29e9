from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0021_remove_item_name_index")]

    operations = [
        migrations.AlterField("item", "ean", models.CharField(max_length=13, unique=True)),
    ]
