import json
import os
import time
from pathlib import Path

from django.db import migrations


def backfill_note(apps, schema_editor):
    """Fills the note; MR_TEST_HOLD makes it report where it runs and wait to be interrupted."""
    Category = apps.get_model("store", "Category")
    Product = apps.get_model("store", "Product")
    category = Category.objects.create(name="tools")
    Product.objects.create(code="a1", name="hammer", category=category)
    Product.objects.create(code="a2", name="saw", category=category)
    Product.objects.filter(note__isnull=True).update(note="backfilled")
    # SQL run through the editor from Python: not part of sqlmigrate's output.
    schema_editor.execute("UPDATE store_category SET name = upper(name)")
    hold = os.environ.get("MR_TEST_HOLD")
    if hold:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            data_directory = cursor.fetchone()[0]
        settings = schema_editor.connection.settings_dict
        where = {"data_directory": data_directory, "database": settings["NAME"]}
        Path(hold).write_text(json.dumps(where))
        time.sleep(120)


class Migration(migrations.Migration):
    dependencies = [("store", "0005_product_name_index")]

    operations = [
        migrations.RunSQL("SET lock_timeout = '3s'", migrations.RunSQL.noop),
        migrations.RunPython(backfill_note, migrations.RunPython.noop),
        migrations.RunSQL(
            "UPDATE store_product SET price = price + 1 WHERE price >= 0",
            migrations.RunSQL.noop,
        ),
    ]
