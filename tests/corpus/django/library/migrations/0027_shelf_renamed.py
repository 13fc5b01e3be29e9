# Corpus case: RenameModel: RENAME TO, and the foreign keys pointing at it.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0026_tag_table_renamed"),
    ]

    operations = [
        migrations.RenameModel(
            old_name="Shelf",
            new_name="Bookcase",
        ),
    ]
