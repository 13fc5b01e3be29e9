# Corpus case: AddConstraint UniqueConstraint with a condition: CREATE UNIQUE INDEX.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0036_member_name_email_unique"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="book",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "published")),
                fields=("isbn",),
                name="book_published_isbn_uniq",
            ),
        ),
    ]
