from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0011_item_weight_smallint")]

    operations = [
        migrations.AlterField("item", "name", models.CharField(max_length=60)),
    ]
