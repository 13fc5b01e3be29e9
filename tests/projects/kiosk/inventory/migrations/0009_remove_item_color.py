from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0008_item_batch")]

    operations = [
        migrations.RemoveField("item", "color"),
    ]
