from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0013_item_label_longer")]

    operations = [
        migrations.AlterField("item", "title", models.CharField(max_length=100)),
    ]
