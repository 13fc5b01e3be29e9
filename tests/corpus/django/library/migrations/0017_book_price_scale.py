# Corpus case: AlterField DecimalField decimal_places 2 -> 3: a rewrite.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0016_book_price_precision"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="price",
            field=models.DecimalField(decimal_places=3, max_digits=9),
        ),
    ]
