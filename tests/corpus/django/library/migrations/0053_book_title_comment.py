# Corpus case: AlterField db_comment: COMMENT ON COLUMN.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0052_event_deleted"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="title",
            field=models.CharField(db_comment="Shown in the catalogue", max_length=300),
        ),
    ]
