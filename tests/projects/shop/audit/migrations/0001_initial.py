import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Written after the squash: depends on the squashed migration."""

    initial = True

    dependencies = [("ledger", "0001_squashed_0002_account_owner")]

    operations = [
        migrations.CreateModel(
            name="Entry",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, to="ledger.account"
                    ),
                ),
            ],
        ),
    ]
