# Corpus case: AddField ForeignKey, nullable: ADD COLUMN ... REFERENCES locks both tables.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0007_book_added_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="shelf",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.SET_NULL, to="library.shelf"
            ),
        ),
    ]
