from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_item_supplier")]

    operations = [
        migrations.AddField("item", "batch", models.IntegerField(db_index=True, null=True)),
    ]
