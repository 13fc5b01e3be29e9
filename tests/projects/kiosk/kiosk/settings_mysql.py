"""The kiosk project on MySQL/MariaDB, through PyMySQL standing in for mysqlclient.

KIOSK_DATABASE_URL (mysql://user:password@host:port/name) points ``manage.py`` at a database for
the tests that compare with ``manage.py sqlmigrate``; the collector replaces the default database
by its own scratch database whatever it says here.
"""

import os
from urllib.parse import unquote, urlsplit

import pymysql

pymysql.install_as_MySQLdb()

SECRET_KEY = "kiosk-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["inventory", "rawddl"]

url = urlsplit(os.environ.get("KIOSK_DATABASE_URL", "mysql://kiosk@127.0.0.1:3306/kiosk"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.mysql",
        "NAME": unquote(url.path.lstrip("/")),
        "USER": unquote(url.username or ""),
        "PASSWORD": unquote(url.password or ""),
        "HOST": url.hostname or "",
        "PORT": str(url.port or ""),
        "OPTIONS": {"charset": "utf8mb4"},
    }
}
