# Corpus case: Data to scan: RunSQL INSERTs into every base table.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            [
                "INSERT INTO library_author (name, email) SELECT 'a' || g, 'a' || g || '@example.org' FROM generate_series(1, 200) g",
                "INSERT INTO library_shelf (label) SELECT 's' || g FROM generate_series(1, 20) g",
                "INSERT INTO library_tag (name) SELECT 't' || g FROM generate_series(1, 20) g",
                "INSERT INTO library_book (title, code, pages, price, status, author_id) SELECT 'b' || g, 'c' || g, g, 9.99, 'draft', g % 200 + 1 FROM generate_series(1, 500) g",
                "INSERT INTO library_member (name, email, legacy_id) SELECT 'm' || g, 'm' || g || '@example.org', g FROM generate_series(1, 200) g",
                "INSERT INTO library_loan (due, returned, book_id, member_id, shelf_id) SELECT current_date, false, g % 500 + 1, g % 200 + 1, g % 20 + 1 FROM generate_series(1, 300) g",
                "INSERT INTO library_event (name, period, shelf_id) SELECT 'e' || g, daterange(current_date + g, current_date + g + 1), g % 20 + 1 FROM generate_series(1, 50) g",
                "INSERT INTO library_visit (at, member_id) SELECT now() - g * interval '1 day', g % 200 + 1 FROM generate_series(1, 500) g",
            ],
            migrations.RunSQL.noop,
        ),
    ]
