"""Classify: the lock risk of each statement, static and traced, one algorithm over backends."""

from bot.classify.project import project_findings
from bot.classify.review import backend_for, classify_sql, review_migration
from bot.classify.schema import Schema

__all__ = ["Schema", "backend_for", "classify_sql", "project_findings", "review_migration"]
