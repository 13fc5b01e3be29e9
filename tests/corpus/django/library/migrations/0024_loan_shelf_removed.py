# Corpus case: RemoveField of a ForeignKey: DROP CONSTRAINT locks the referenced table too.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0023_member_legacy_removed"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="loan",
            name="shelf",
        ),
    ]
