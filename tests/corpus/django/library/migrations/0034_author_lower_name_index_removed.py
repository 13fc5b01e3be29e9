# Corpus case: RemoveIndexConcurrently in a non-atomic migration.
import django.contrib.postgres.operations
from django.db import migrations


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("library", "0033_book_title_index_removed"),
    ]

    operations = [
        django.contrib.postgres.operations.RemoveIndexConcurrently(
            model_name="author",
            name="author_lower_name_idx",
        ),
    ]
