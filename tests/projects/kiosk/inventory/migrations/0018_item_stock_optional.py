from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0017_item_note_required")]

    operations = [
        migrations.AlterField("item", "stock", models.IntegerField(null=True)),
    ]
