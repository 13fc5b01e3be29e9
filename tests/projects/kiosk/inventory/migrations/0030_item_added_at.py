import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0029_item_label_text")]

    operations = [
        migrations.AddField(
            model_name="item",
            name="added_at",
            field=models.DateTimeField(
                auto_now_add=True,
                default=datetime.datetime(2025, 1, 1, 0, 0, tzinfo=datetime.UTC),
            ),
            preserve_default=False,
        ),
    ]
