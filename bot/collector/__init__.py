"""The collector: run by the project's interpreter as ``python -I <this folder>``.

It never imports bot, so nothing in the project can clash with our module names.
"""

from pathlib import Path

COLLECTOR_DIR = Path(__file__).resolve().parent
