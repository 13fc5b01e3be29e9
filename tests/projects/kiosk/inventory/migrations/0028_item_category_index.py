from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0027_item_supplier_code_uniq")]

    operations = [
        migrations.AlterField("item", "category", models.CharField(db_index=True, max_length=20)),
    ]
