# Corpus case: AddField with a volatile db_default (gen_random_uuid): a rewrite.
import django.contrib.postgres.functions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0005_book_stock"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="token",
            field=models.UUIDField(db_default=django.contrib.postgres.functions.RandomUUID()),
        ),
    ]
