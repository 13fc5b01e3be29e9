from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("broken", "0002_fails")]

    operations = [
        migrations.AddField(model_name="thing", name="size", field=models.IntegerField(null=True)),
    ]
