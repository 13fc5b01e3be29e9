# Corpus case: AlterModelTableComment: COMMENT ON TABLE.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0053_book_title_comment"),
    ]

    operations = [
        migrations.AlterModelTableComment(
            name="book",
            table_comment="Books on the shelves",
        ),
    ]
