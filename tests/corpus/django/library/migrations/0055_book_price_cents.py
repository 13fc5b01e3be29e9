# Corpus case: AddField GeneratedField(db_persist=True): a stored generated column, a rewrite.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0054_book_table_comment"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="price_cents",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.F("price") * 100,
                output_field=models.DecimalField(decimal_places=3, max_digits=12),
            ),
        ),
    ]
