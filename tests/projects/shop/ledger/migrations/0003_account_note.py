from django.db import migrations, models


class Migration(migrations.Migration):
    """Written before the squash: depends on a replaced migration."""

    dependencies = [("ledger", "0002_account_owner")]

    operations = [
        migrations.AddField(model_name="account", name="note", field=models.TextField(null=True)),
    ]
