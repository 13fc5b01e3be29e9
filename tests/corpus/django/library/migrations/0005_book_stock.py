# Corpus case: AddField with a constant db_default: fast from PostgreSQL 11.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0004_book_edition"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="stock",
            field=models.IntegerField(db_default=0),
        ),
    ]
