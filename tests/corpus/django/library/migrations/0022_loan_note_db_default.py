# Corpus case: AlterField db_default: SET DEFAULT.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0021_book_slug_not_unique"),
    ]

    operations = [
        migrations.AlterField(
            model_name="loan",
            name="note",
            field=models.CharField(db_default="-", max_length=100, null=True),
        ),
    ]
