from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0030_item_added_at")]

    operations = [
        migrations.AlterField("item", "weight", models.SmallIntegerField(db_default=0)),
    ]
