from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0004_item_rating")]

    operations = [
        migrations.AddField("item", "summary", models.TextField(null=True)),
    ]
