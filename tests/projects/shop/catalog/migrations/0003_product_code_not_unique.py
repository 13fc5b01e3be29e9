from django.db import migrations, models


class Migration(migrations.Migration):
    """Dropping unique=True: Django looks the constraint's name up in the database."""

    dependencies = [("store", "0002_product_note")]

    operations = [
        migrations.AlterField(
            model_name="product", name="code", field=models.CharField(max_length=20)
        ),
    ]
