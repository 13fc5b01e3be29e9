# Corpus case: AddConstraint UniqueConstraint on an expression: CREATE UNIQUE INDEX.
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0037_book_published_isbn_unique"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="author",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("email"), name="author_lower_email_uniq"
            ),
        ),
    ]
