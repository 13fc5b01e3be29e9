from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_seed")]

    operations = [
        migrations.AddField("item", "color", models.CharField(max_length=20, null=True)),
    ]
