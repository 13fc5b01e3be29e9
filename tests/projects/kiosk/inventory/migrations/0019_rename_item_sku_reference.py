from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("inventory", "0018_item_stock_optional")]

    operations = [
        migrations.RenameField("item", "sku", "reference"),
    ]
