from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("store", "0006_backfill_note")]

    operations = [
        migrations.AlterField(
            model_name="product", name="price", field=models.BigIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="product", name="stock", field=models.IntegerField(default=0)
        ),
        migrations.AlterField(
            model_name="product",
            name="note",
            field=models.TextField(default="", null=False),
            preserve_default=False,
        ),
    ]
