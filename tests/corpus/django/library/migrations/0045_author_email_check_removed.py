# Corpus case: RemoveConstraint: DROP CONSTRAINT.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0044_author_email_required"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="author",
            name="author_email_not_null",
        ),
    ]
