# Corpus case: AddIndexConcurrently in a non-atomic migration.
import django.contrib.postgres.operations
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("library", "0031_loan_due_covering_index"),
    ]

    operations = [
        django.contrib.postgres.operations.AddIndexConcurrently(
            model_name="book",
            index=models.Index(fields=["rating"], name="book_rating_idx"),
        ),
    ]
