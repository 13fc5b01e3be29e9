# Corpus case: AlterModelTable: RENAME TO.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0025_author_bio_renamed"),
    ]

    operations = [
        migrations.AlterModelTable(
            name="tag",
            table="library_label",
        ),
    ]
