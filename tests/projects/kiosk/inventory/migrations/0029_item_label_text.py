from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0028_item_category_index")]

    operations = [
        migrations.AlterField("item", "label", models.TextField()),
    ]
