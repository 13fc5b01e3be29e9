# Corpus case: AlterField unique=False: DROP CONSTRAINT.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0020_member_email_unique"),
    ]

    operations = [
        migrations.AlterField(
            model_name="book",
            name="slug",
            field=models.SlugField(null=True),
        ),
    ]
