import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Changing a foreign key: its constraint is found by introspection and dropped."""

    dependencies = [("store", "0003_product_code_not_unique")]

    operations = [
        migrations.AlterField(
            model_name="product",
            name="category",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to="store.category",
            ),
        ),
    ]
