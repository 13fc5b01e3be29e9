# Corpus case: AlterField max_length 10 -> 8: a rewrite.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0012_book_title_longer"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="code",
            field=models.CharField(max_length=8, unique=True),
        ),
    ]
