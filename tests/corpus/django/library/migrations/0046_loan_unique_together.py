# Corpus case: AlterUniqueTogether: ADD CONSTRAINT UNIQUE over three columns.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0045_author_email_check_removed"),
    ]

    operations = [
        migrations.AlterUniqueTogether(
            name="loan",
            unique_together={("book", "member", "due")},
        ),
    ]
