# Corpus case: AlterField max_length 200 -> 300: binary-coercible, no rewrite.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0011_book_isbn_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="title",
            field=models.CharField(max_length=300),
        ),
    ]
