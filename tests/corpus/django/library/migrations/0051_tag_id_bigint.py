# Corpus case: AlterField AutoField -> BigAutoField: the key and the columns pointing at it.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("library", "0050_book_tags"),
    ]

    operations = [
        migrations.AlterField(
            model_name="tag",
            name="id",
            field=models.BigAutoField(
                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
            ),
        ),
    ]
