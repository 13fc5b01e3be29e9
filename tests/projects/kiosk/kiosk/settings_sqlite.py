"""The kiosk project on SQLite. KIOSK_SQLITE_PATH names the database file for ``manage.py``.

The ``rawddl`` app is MySQL-only SQL, so it is not installed here.
"""

import os

SECRET_KEY = "kiosk-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["inventory"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("KIOSK_SQLITE_PATH", "kiosk.sqlite3"),
    }
}
