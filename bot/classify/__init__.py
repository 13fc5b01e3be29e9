"""Classify: the lock risk of each statement, static (pglast) and traced (pg_locks)."""

from bot.classify.review import classify_sql, review_migration, review_migrations
from bot.classify.schema import Schema

__all__ = ["Schema", "classify_sql", "review_migration", "review_migrations"]
