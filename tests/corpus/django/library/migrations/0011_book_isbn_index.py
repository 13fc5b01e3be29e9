# Corpus case: AlterField db_index=True: CREATE INDEX (and the _like index).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0010_book_slug"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="isbn",
            field=models.CharField(db_index=True, max_length=13, null=True),
        ),
    ]
