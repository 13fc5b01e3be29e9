# Corpus case: RenameIndex: ALTER INDEX ... RENAME.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0034_author_lower_name_index_removed"),
    ]

    operations = [
        migrations.RenameIndex(
            model_name="loan",
            new_name="loan_due_incl_idx",
            old_name="loan_due_cover_idx",
        ),
    ]
