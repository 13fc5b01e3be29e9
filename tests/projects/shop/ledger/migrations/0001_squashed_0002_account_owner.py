from django.db import migrations, models


class Migration(migrations.Migration):
    replaces = [("ledger", "0001_initial"), ("ledger", "0002_account_owner")]

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Account",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("owner", models.CharField(max_length=50, null=True)),
            ],
        ),
    ]
