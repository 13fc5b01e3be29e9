#!/usr/bin/env python
"""The collector reads the settings module from here without running it."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk.settings_mysql")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
