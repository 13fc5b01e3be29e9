from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0016_item_code_shorter")]

    operations = [
        migrations.AlterField("item", "note", models.TextField()),
    ]
