from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_item_color")]

    operations = [
        migrations.AddField("item", "rating", models.IntegerField(default=0)),
    ]
