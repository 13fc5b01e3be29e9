# Corpus case: AlterOrderWithRespectTo: adds the _order column.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0061_review_model"),
    ]

    operations = [
        migrations.AlterOrderWithRespectTo(
            name="visit",
            order_with_respect_to="member",
        ),
    ]
