"""django-migration-review: reviews the Django migrations in a pull request."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("django-migration-review")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
