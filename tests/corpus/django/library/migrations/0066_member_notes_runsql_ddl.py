# Corpus case: RunSQL with DDL the ORM does not write: goes through the same parser.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0065_review_index_and_note"),
    ]

    operations = [
        migrations.RunSQL(
            [
                "ALTER TABLE library_member ADD COLUMN notes text",
                "CREATE INDEX library_member_notes_idx ON library_member (notes)",
                "ALTER TABLE library_member ADD CONSTRAINT member_notes_len CHECK (char_length(notes) < 1000) NOT VALID",
            ],
            migrations.RunSQL.noop,
        ),
    ]
