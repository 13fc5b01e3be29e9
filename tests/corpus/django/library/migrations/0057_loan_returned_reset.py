# Corpus case: RunSQL UPDATE without WHERE.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0056_loan_flagged_backfill"),
    ]

    operations = [
        migrations.RunSQL(
            "UPDATE library_loan SET returned = false",
            migrations.RunSQL.noop,
        ),
    ]
