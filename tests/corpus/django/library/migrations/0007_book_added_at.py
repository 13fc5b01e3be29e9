# Corpus case: AddField with a stable db_default (Now): no rewrite.
import django.db.models.functions.datetime
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0006_book_token"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="added_at",
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
        ),
    ]
