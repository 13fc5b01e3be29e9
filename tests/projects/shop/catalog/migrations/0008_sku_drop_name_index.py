from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations, models


def stock_cheap_products(apps, schema_editor):
    Product = apps.get_model("store", "Product")
    Product.objects.filter(price__lt=10).update(stock=1)


class Migration(migrations.Migration):
    """Non-atomic: each statement commits on its own, and CONCURRENTLY is allowed."""

    atomic = False

    dependencies = [("store", "0007_price_bigint_stock")]

    operations = [
        migrations.AddField(
            model_name="product", name="sku", field=models.CharField(max_length=32, null=True)
        ),
        RemoveIndexConcurrently(model_name="product", name="product_name_idx"),
        migrations.RunPython(stock_cheap_products, migrations.RunPython.noop),
    ]
