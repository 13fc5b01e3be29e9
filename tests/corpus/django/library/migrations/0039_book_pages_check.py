# Corpus case: AddConstraint CheckConstraint: validated at once, a scan under ACCESS EXCLUSIVE.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0038_author_lower_email_unique"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="book",
            constraint=models.CheckConstraint(
                condition=models.Q(("pages__gte", 0)), name="book_pages_gte_0"
            ),
        ),
    ]
