from django.apps import AppConfig


class CatalogConfig(AppConfig):
    """Labelled "store", unlike its folder: files must be mapped through Django's loader."""

    name = "catalog"
    label = "store"
