"""File recipes: how a backend rewrites one risky operation as steps of complete migrations.

A backend's ``recipes`` table maps a rule id to the recipe that answers it (``advice`` maps it to
the words and code of the finding; a recipe writes the files of the migration's alternative,
which ``bot.alternative`` assembles and verifies). A recipe is given a ``Job``: the operation as
written in the file, what the collector knows of it, the SQL Django renders for it; it returns
the ``Step``s that replace it, or raises ``NoRecipe`` with the reason (and the idea in words).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bot.classify.source import FieldEdit, Operation
from bot.models import MigrationReview, OperationInfo


@dataclass
class Step:
    """Operations that go in one migration file, in order."""

    operations: list[str]
    atomic: bool = True
    release: int = 1
    imports: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    does: str = ""
    own_transaction: bool = False
    """Starts a migration of its own even after a step that could share its transaction."""


class NoRecipe(Exception):
    """The operation has no file recipe: the reason, and the idea in words when there is one."""

    def __init__(self, reason: str, guidance: str | None = None) -> None:
        super().__init__(reason)
        self.guidance = guidance


@dataclass
class Job:
    """One operation to rewrite, and what a recipe may read or edit around it."""

    op: Operation
    info: OperationInfo
    statements: list[str]
    migration: MigrationReview
    read: Callable[[str], str | None]
    """A file of the head tree by repository path; None when it is not there."""
    partitioned: set[str] = field(default_factory=set)
    edited: dict[str, str] = field(default_factory=dict)
    """Model files the recipe changes on purpose: repository path -> the whole new text."""

    def field_edit(self, model: str, name: str) -> FieldEdit | None:
        """The field ``name`` of ``model`` in the app's models.py, to edit."""
        path = str(PurePosixPath(self.migration.file).parent.parent / "models.py")
        text = self.edited.get(path) or self.read(path)
        found = FieldEdit.find(text, model, name) if text else None
        if found is not None:
            found.path = path
        return found


Recipe = Callable[[Job], list[Step]]
