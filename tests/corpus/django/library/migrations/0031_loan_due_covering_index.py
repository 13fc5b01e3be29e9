# Corpus case: AddIndex with include= (a covering index).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0030_author_lower_name_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="loan",
            index=models.Index(fields=["due"], include=["returned"], name="loan_due_cover_idx"),
        ),
    ]
