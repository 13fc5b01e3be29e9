# Corpus case: RemoveField: DROP COLUMN.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0022_loan_note_db_default"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="member",
            name="legacy_id",
        ),
    ]
