# Corpus case: AddConstraintNotValid: NOT VALID, no scan.
import django.contrib.postgres.operations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0039_book_pages_check"),
    ]

    operations = [
        django.contrib.postgres.operations.AddConstraintNotValid(
            model_name="loan",
            constraint=models.CheckConstraint(
                condition=models.Q(("note", ""), _negated=True), name="loan_note_not_empty"
            ),
        ),
    ]
