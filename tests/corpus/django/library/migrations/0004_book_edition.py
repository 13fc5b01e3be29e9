# Corpus case: AddField NOT NULL with a one-off default: ADD COLUMN DEFAULT then DROP DEFAULT.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0003_author_nickname"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="edition",
            field=models.IntegerField(default=1),
            preserve_default=False,
        ),
    ]
