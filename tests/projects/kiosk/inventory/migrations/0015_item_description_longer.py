from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0014_item_title_longer")]

    operations = [
        migrations.AlterField("item", "description", models.CharField(max_length=200)),
    ]
