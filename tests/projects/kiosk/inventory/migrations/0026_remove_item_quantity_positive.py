from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0025_item_quantity_positive")]

    operations = [
        migrations.RemoveConstraint("item", "item_quantity_positive"),
    ]
