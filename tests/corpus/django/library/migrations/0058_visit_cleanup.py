# Corpus case: RunSQL DELETE with a WHERE clause.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0057_loan_returned_reset"),
    ]

    operations = [
        migrations.RunSQL(
            "DELETE FROM library_visit WHERE at < now() - interval '400 days'",
            migrations.RunSQL.noop,
        ),
    ]
