from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0005_item_summary")]

    operations = [
        migrations.AddField(
            "item", "serial", models.CharField(max_length=20, null=True, unique=True)
        ),
    ]
