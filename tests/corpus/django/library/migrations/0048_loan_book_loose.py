# Corpus case: AlterField db_constraint=False: DROP CONSTRAINT of a foreign key.
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0047_event_no_overlap"),
    ]

    operations = [
        migrations.AlterField(
            model_name="loan",
            name="book",
            field=models.ForeignKey(
                db_constraint=False, on_delete=django.db.models.deletion.CASCADE, to="library.book"
            ),
        ),
    ]
