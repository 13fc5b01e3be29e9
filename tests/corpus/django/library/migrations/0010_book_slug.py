# Corpus case: AddField unique: the UNIQUE constraint builds an index under ACCESS EXCLUSIVE.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0009_member_locker"),
    ]

    operations = [
        migrations.AddField(
            model_name="book",
            name="slug",
            field=models.SlugField(null=True, unique=True),
        ),
    ]
