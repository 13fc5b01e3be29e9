"""Reviewing collected migrations in order, as ``analyze`` does."""

from __future__ import annotations

from bot.classify import Schema, review_migration
from bot.classify.backend import Backend
from bot.models import CollectedMigration, MigrationReview


def review_in_order(
    migrations: list[CollectedMigration], backend: Backend
) -> list[MigrationReview]:
    """Each migration sees the schema the earlier ones built, as in one pull request."""
    schema = Schema()
    return [review_migration(m, backend=backend, schema=schema) for m in migrations]
