"""What a database backend gives the review: the small interface behind which backends differ.

One review algorithm (``bot.classify.review``) runs for every backend, like Django's migration
executor over its per-backend schema editors. A backend (``bot.classify.postgresql``,
``.mysql``, ``.sqlite``) gives it:

- an ``Analyzer`` whose one method, ``read``, turns a statement (and its trace, when the
  collector traced it) into a ``risk.Reading``: the static and traced views, each with its
  locks, work and ``risk.Hit``s;
- ``advice``: the safer-code renderer of each rule it raises, by rule id (``bot.classify.advice``
  has the ones every backend shares);
- ``recipes``: by rule id, how an operation that raises it is rewritten as complete migration
  files (``bot.classify.recipe``), which ``bot.alternative`` assembles and verifies;
- its migration-level rules: the lock-timeout rule's id, whether RunPython runs under the
  schema changes' locks, and any rule of its own about an operation or the whole migration.

A backend is chosen once per review (``review.backend_for``), with the server version its rules
follow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from bot.classify.advice import Advice, Context
from bot.classify.recipe import Recipe
from bot.classify.risk import Reading
from bot.classify.schema import Schema
from bot.models import CollectedMigration, Finding, OperationInfo, Trace


class Analyzer(Protocol):
    held: Mapping[str, str]
    """relation -> lock mode still held from earlier statements of the transaction."""

    def read(self, sql: str, operation: OperationInfo | None, trace: Trace | None) -> Reading:
        """One statement, in order: the analyzer keeps the schema and session state."""
        ...


class Backend:
    """One database backend; the defaults are those of a backend without rules of its own."""

    name: str = ""
    advice: Mapping[str, Advice] = {}
    recipes: Mapping[str, Recipe] = {}
    """File recipes by rule id, in the order that decides which one rewrites an operation."""
    transactional_ddl: bool = True
    """Schema changes wait for COMMIT (MySQL commits each one at once), holding their locks."""
    lock_timeout_rule: str | None = None
    """The rule for blocking locks taken without a lock timeout, if the backend has one."""

    def analyzer(self, schema: Schema, migration: CollectedMigration | None) -> Analyzer:
        """``migration`` None: raw SQL, statements run one by one as a SQL client runs a file."""
        raise NotImplementedError

    def check(self, sql: str, file: str | None) -> None:
        """Raise ``ReviewError`` naming the file and line where ``sql`` is not the backend's."""

    def runs_with_schema_changes(self, m: CollectedMigration, readings: Sequence[Reading]) -> bool:
        """Whether RunPython runs in the same transaction as the migration's schema changes."""
        return False

    def operation_findings(self, ctx: Context, held: Mapping[str, str]) -> list[Finding]:
        """Findings about one operation, given the locks held when it starts."""
        return []

    def migration_findings(self, ctx: Context, readings: Sequence[Reading]) -> list[Finding]:
        """Findings about the whole migration, from every statement it runs."""
        return []
