# Corpus case: AddIndex on a field.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0027_shelf_renamed"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="book",
            index=models.Index(fields=["title"], name="book_title_idx"),
        ),
    ]
