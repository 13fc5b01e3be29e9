"""The kiosk project configured the dj-database-url way: DATABASE_URL picks the backend.

Without it the project falls back to SQLite, as many projects do for local development.
"""

import os

SECRET_KEY = "kiosk-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["inventory"]

_URL = os.environ.get("DATABASE_URL", "sqlite:///kiosk.sqlite3")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql"
        if _URL.startswith(("postgres://", "postgresql://"))
        else "django.db.backends.sqlite3",
        "NAME": _URL.rsplit("/", 1)[-1],
    }
}
