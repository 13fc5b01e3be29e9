"""Settings of the collector's test project.

The default database is PostgreSQL on a server that needs not exist: the collector replaces it by
its scratch database. SHOP_DATABASE_URL points it at a server for running ``manage.py sqlmigrate``
in the tests.
The "legacy" alias points at a port nothing listens on: connecting to it would fail the run.
MR_TEST_ENV_DUMP names a file to write this process's environment to.
"""

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

SECRET_KEY = "collector-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["catalog", "broken", "ledger", "audit"]

DATABASES = {
    "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"},
    "legacy": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "legacy",
        "HOST": "127.0.0.1",
        "PORT": "1",
    },
}
if os.environ.get("SHOP_DATABASE_URL"):
    url = urlsplit(os.environ["SHOP_DATABASE_URL"])
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": url.path.lstrip("/"),
        "USER": url.username or "",
        "HOST": url.hostname or "",
        "PORT": str(url.port or ""),
    }

if os.environ.get("MR_TEST_ENV_DUMP"):
    Path(os.environ["MR_TEST_ENV_DUMP"]).write_text(json.dumps(dict(os.environ)))
