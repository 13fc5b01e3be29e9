# Corpus case: AlterField null -> NOT NULL with a default: SET DEFAULT, UPDATE, SET NOT NULL.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0017_book_price_scale"),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="phone",
            field=models.CharField(default="unknown", max_length=20),
            preserve_default=False,
        ),
    ]
