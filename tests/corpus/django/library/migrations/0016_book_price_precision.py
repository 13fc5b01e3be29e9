# Corpus case: AlterField DecimalField max_digits 7 -> 9: no rewrite.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0015_book_pages_bigint"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="price",
            field=models.DecimalField(decimal_places=2, max_digits=9),
        ),
    ]
