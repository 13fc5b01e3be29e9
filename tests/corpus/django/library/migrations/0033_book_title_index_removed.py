# Corpus case: RemoveIndex: DROP INDEX locks the table.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0032_book_rating_index_concurrently"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="book",
            name="book_title_idx",
        ),
    ]
