# Corpus case: AddField OneToOneField: a unique column with a foreign key.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0008_member_shelf"),
    ]

    operations = [
        migrations.AddField(
            model_name="member",
            name="locker",
            field=models.OneToOneField(
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="locker_member",
                to="library.shelf",
            ),
        ),
    ]
