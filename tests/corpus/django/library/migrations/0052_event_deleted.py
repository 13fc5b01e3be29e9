# Corpus case: DeleteModel: DROP TABLE, which also locks the table it references.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0051_tag_id_bigint"),
    ]

    operations = [
        migrations.DeleteModel(
            name="Event",
        ),
    ]
