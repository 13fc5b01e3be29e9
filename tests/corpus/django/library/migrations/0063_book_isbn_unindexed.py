# Corpus case: AlterField db_index=False: DROP INDEX (and the _like index).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0062_visit_order"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="isbn",
            field=models.CharField(max_length=13, null=True),
        ),
    ]
