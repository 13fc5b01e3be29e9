from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0020_item_name_index")]

    operations = [
        migrations.RemoveIndex("item", "item_name_idx"),
    ]
