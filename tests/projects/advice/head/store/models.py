import uuid

from django.db import models
from django.utils import timezone


class Author(models.Model):
    name = models.CharField(max_length=200)
    nickname = models.CharField(max_length=50, default="")


class Publisher(models.Model):
    name = models.CharField(max_length=200)


class Book(models.Model):
    title = models.CharField(max_length=200)
    publisher = models.ForeignKey(Publisher, on_delete=models.PROTECT, null=True, blank=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    translator = models.ForeignKey(
        Author, on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=True
    )
    subtitle = models.CharField(max_length=200, null=True, blank=True)
    isbn = models.CharField(max_length=13, unique=True, default="")
    slug = models.SlugField(max_length=80, unique=True, null=True)
    page_count = models.IntegerField(default=0)
    copies = models.BigIntegerField(default=0)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    token = models.UUIDField(default=uuid.uuid4)
    added_at = models.DateTimeField(default=timezone.now)
    price_with_tax = models.GeneratedField(
        expression=models.F("price") * 2,
        output_field=models.DecimalField(max_digits=10, decimal_places=2),
        db_persist=True,
    )

    class Meta:
        indexes = [models.Index(fields=["title"], name="store_book_title_idx")]


class Event(models.Model):
    """Its table is partitioned by year: the migration that creates it says so in SQL."""

    kind = models.CharField(max_length=20)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["kind"], name="store_event_kind_idx")]
