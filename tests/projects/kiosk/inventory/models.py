from django.db import models


class Supplier(models.Model):
    name = models.CharField(max_length=50)


class Item(models.Model):
    name = models.CharField(max_length=60)
    label = models.TextField()
    title = models.CharField(max_length=100)
    description = models.CharField(max_length=200)
    code = models.CharField(max_length=5)
    reference = models.CharField(max_length=12)
    ean = models.CharField(max_length=13)
    category = models.CharField(db_index=True, max_length=20)
    quantity = models.BigIntegerField()
    weight = models.SmallIntegerField(db_default=0)
    stock = models.IntegerField(null=True)
    price = models.DecimalField(decimal_places=2, max_digits=10)
    note = models.TextField()
    rating = models.IntegerField(default=0)
    summary = models.TextField(null=True)
    serial = models.CharField(max_length=20, null=True, unique=True)
    supplier = models.ForeignKey(Supplier, null=True, on_delete=models.PROTECT)
    batch = models.IntegerField(db_index=True, null=True)
    added_at = models.DateTimeField(auto_now_add=True)
    discontinued = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["supplier", "code"], name="item_supplier_code_uniq")
        ]
