from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0015_item_description_longer")]

    operations = [
        migrations.AlterField("item", "code", models.CharField(max_length=5)),
    ]
