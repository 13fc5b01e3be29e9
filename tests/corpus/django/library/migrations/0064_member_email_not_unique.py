# Corpus case: AlterField unique removed: DROP CONSTRAINT.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0063_book_isbn_unindexed"),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="email",
            field=models.CharField(max_length=254, null=True),
        ),
    ]
