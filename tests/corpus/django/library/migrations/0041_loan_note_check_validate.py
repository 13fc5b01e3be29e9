# Corpus case: ValidateConstraint: a scan under SHARE UPDATE EXCLUSIVE.
import django.contrib.postgres.operations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0040_loan_note_check_not_valid"),
    ]

    operations = [
        django.contrib.postgres.operations.ValidateConstraint(
            model_name="loan",
            name="loan_note_not_empty",
        ),
    ]
