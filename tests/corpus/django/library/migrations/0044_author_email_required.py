# Corpus case: The safe NOT NULL, step 3: SET NOT NULL skips its scan (PostgreSQL 12+).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0043_author_email_check_validate"),
    ]

    operations = [
        migrations.AlterField(
            model_name="author",
            name="email",
            field=models.CharField(max_length=100),
        ),
    ]
