from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("broken", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE broken_missing ADD COLUMN x integer", migrations.RunSQL.noop
        ),
    ]
