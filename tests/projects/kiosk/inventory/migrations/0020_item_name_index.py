from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0019_rename_item_sku_reference")]

    operations = [
        migrations.AddIndex("item", models.Index(fields=["name"], name="item_name_idx")),
    ]
