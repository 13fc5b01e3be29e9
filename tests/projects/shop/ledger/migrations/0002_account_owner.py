from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="account", name="owner", field=models.CharField(max_length=50, null=True)
        ),
    ]
