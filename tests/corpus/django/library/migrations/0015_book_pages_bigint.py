# Corpus case: AlterField IntegerField -> BigIntegerField: a rewrite.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0014_book_summary_text"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="pages",
            field=models.BigIntegerField(default=0),
        ),
    ]
