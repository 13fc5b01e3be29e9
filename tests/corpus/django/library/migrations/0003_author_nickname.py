# Corpus case: AddField, nullable: instant ADD COLUMN.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0002_seed_rows"),
    ]

    operations = [
        migrations.AddField(
            model_name="author",
            name="nickname",
            field=models.CharField(max_length=50, null=True),
        ),
    ]
