# Corpus case: AlterField db_collation: ALTER COLUMN TYPE ... COLLATE, no rewrite.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0059_member_name_longer_with_timeout"),
    ]

    operations = [
        migrations.AlterField(
            model_name="author",
            name="name",
            field=models.CharField(db_collation="C", max_length=100),
        ),
    ]
