# Corpus case: AddIndex with a condition (a partial index).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0028_book_title_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="book",
            index=models.Index(
                condition=models.Q(("status", "draft")), fields=["status"], name="book_draft_idx"
            ),
        ),
    ]
