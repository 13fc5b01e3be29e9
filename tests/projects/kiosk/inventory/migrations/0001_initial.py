from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Supplier",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50)),
            ],
        ),
        migrations.CreateModel(
            name="Item",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=20)),
                ("label", models.CharField(max_length=30)),
                ("title", models.CharField(max_length=60)),
                ("description", models.CharField(max_length=100)),
                ("code", models.CharField(max_length=10)),
                ("sku", models.CharField(max_length=12)),
                ("ean", models.CharField(max_length=13)),
                ("category", models.CharField(max_length=20)),
                ("quantity", models.IntegerField()),
                ("weight", models.BigIntegerField()),
                ("stock", models.IntegerField()),
                ("price", models.DecimalField(decimal_places=2, max_digits=8)),
                ("note", models.TextField(null=True)),
            ],
        ),
    ]
