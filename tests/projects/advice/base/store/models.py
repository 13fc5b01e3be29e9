from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=200)
    nickname = models.CharField(max_length=50, null=True)


class Publisher(models.Model):
    name = models.CharField(max_length=200)


class Shelf(models.Model):
    label = models.CharField(max_length=20)


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.ForeignKey(Author, on_delete=models.CASCADE)
    translator = models.ForeignKey(
        Author, on_delete=models.SET_NULL, null=True, related_name="+", db_constraint=False
    )
    isbn = models.CharField(max_length=13, null=True)
    pages = models.IntegerField(default=0)
    copies = models.IntegerField(default=0)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    blurb = models.TextField()
