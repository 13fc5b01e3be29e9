# Corpus case: The safe NOT NULL, step 1: CHECK (email IS NOT NULL) NOT VALID.
import django.contrib.postgres.operations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0041_loan_note_check_validate"),
    ]

    operations = [
        django.contrib.postgres.operations.AddConstraintNotValid(
            model_name="author",
            constraint=models.CheckConstraint(
                condition=models.Q(("email__isnull", False)), name="author_email_not_null"
            ),
        ),
    ]
