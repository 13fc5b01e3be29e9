"""The kiosk project on PostgreSQL, with the session settings a careful team deploys with.

KIOSK_LOCK_TIMEOUT, when set, becomes ``-c lock_timeout=...`` in the libpq options.
"""

import os

SECRET_KEY = "kiosk-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["inventory"]

_TIMEOUT = os.environ.get("KIOSK_LOCK_TIMEOUT")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "kiosk",
        "OPTIONS": {"options": f"-c lock_timeout={_TIMEOUT}"} if _TIMEOUT else {},
    }
}
