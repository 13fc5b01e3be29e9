# Corpus case: AddField ManyToManyField: a new through table with foreign keys to both.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0049_loan_book_strict"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="tags",
            field=models.ManyToManyField(to="library.tag"),
        ),
    ]
