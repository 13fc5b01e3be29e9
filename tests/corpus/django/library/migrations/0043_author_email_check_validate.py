# Corpus case: The safe NOT NULL, step 2: VALIDATE.
import django.contrib.postgres.operations
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0042_author_email_check_not_valid"),
    ]

    operations = [
        django.contrib.postgres.operations.ValidateConstraint(
            model_name="author",
            name="author_email_not_null",
        ),
    ]
