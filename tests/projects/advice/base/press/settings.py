"""A small publisher's catalogue: the shapes of real-world migrations the safer alternatives cover.

The review replaces the database below with a scratch one.
"""

import os

SECRET_KEY = "advice-corpus-not-secret"
USE_TZ = True
INSTALLED_APPS = ["store"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("ADVICE_DB_NAME", "advice"),
        "HOST": "127.0.0.1",
        "USER": "postgres",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
