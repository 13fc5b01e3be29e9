from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0012_item_name_longer")]

    operations = [
        migrations.AlterField("item", "label", models.CharField(max_length=100)),
    ]
