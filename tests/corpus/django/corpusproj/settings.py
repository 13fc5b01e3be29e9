"""Settings of the corpus project: the collector replaces the database by its scratch PostgreSQL."""

SECRET_KEY = "corpus"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.postgres", "library"]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "corpus"}}
