# Corpus case: RenameField: RENAME COLUMN.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0024_loan_shelf_removed"),
    ]

    operations = [
        migrations.RenameField(
            model_name="author",
            old_name="bio",
            new_name="biography",
        ),
    ]
