"""The kiosk project on MySQL/MariaDB as a mysqlclient project writes it: no PyMySQL in sight.

The collector lets PyMySQL stand in for the missing mysqlclient.
"""

SECRET_KEY = "kiosk-tests"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["inventory"]

DATABASES = {"default": {"ENGINE": "django.db.backends.mysql", "NAME": "kiosk"}}
