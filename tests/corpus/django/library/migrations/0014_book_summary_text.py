# Corpus case: AlterField CharField -> TextField: varchar to text, no rewrite.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0013_book_code_shorter"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="summary",
            field=models.TextField(null=True),
        ),
    ]
