from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("inventory", "0024_item_price_precision")]

    operations = [
        migrations.AddConstraint(
            "item",
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="item_quantity_positive"
            ),
        ),
    ]
