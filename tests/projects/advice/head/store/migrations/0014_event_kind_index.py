from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("store", "0013_event"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["kind"], name="store_event_kind_idx"),
        ),
    ]
