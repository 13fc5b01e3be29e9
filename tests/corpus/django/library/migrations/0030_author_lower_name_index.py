# Corpus case: AddIndex on an expression.
import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0029_book_draft_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="author",
            index=models.Index(
                django.db.models.functions.text.Lower("name"), name="author_lower_name_idx"
            ),
        ),
    ]
