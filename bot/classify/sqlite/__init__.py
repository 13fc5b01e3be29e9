"""SQLite: which statements rewrite a table, under the one lock SQLite has (static only: the
lock is the whole database's for the whole transaction, there is nothing more to observe).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.classify.backend import Backend
from bot.classify.risk import Reading
from bot.classify.schema import Schema
from bot.classify.sqlite.advice import ADVICE
from bot.classify.sqlite.analyzer import Analyzer
from bot.models import CollectedMigration


class SQLite(Backend):
    name = "sqlite"
    advice = ADVICE

    def analyzer(self, schema: Schema, migration: CollectedMigration | None) -> Analyzer:
        return Analyzer(schema)

    def runs_with_schema_changes(self, m: CollectedMigration, readings: Sequence[Reading]) -> bool:
        """An atomic migration holds the write lock of its statements until it commits."""
        return m.atomic and bool(m.statements)
