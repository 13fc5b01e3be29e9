# Corpus case: Non-atomic migration mixing AddField with AddIndexConcurrently.
import django.contrib.postgres.operations
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("library", "0064_member_email_not_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="review",
            name="note",
            field=models.TextField(null=True),
        ),
        django.contrib.postgres.operations.AddIndexConcurrently(
            model_name="review",
            index=models.Index(fields=["stars"], name="review_stars_idx"),
        ),
    ]
