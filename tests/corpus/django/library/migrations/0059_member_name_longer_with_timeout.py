# Corpus case: RunSQL SET LOCAL lock_timeout, then AlterField: the lock is bounded.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0058_visit_cleanup"),
    ]

    operations = [
        migrations.RunSQL("SET LOCAL lock_timeout = '5s'", migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="member",
            name="name",
            field=models.CharField(max_length=150),
        ),
    ]
