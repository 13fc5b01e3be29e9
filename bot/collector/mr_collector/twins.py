"""Which rendered statement a statement run by ``migrate`` is: its twin.

A statement run is written the way ``collect_sql`` writes it and looked up among the rendered
statements of its operation that are still waiting. Most are byte-identical. A field whose
``default`` is a callable (``uuid.uuid4``, ``timezone.now``) is the exception: Django evaluates it
once when rendering and again when applying, so an AlterField to NOT NULL fills the NULL rows with
another literal than ``sqlmigrate`` printed. Such a statement, equal to a waiting one once quoted
literals are set aside, is the same statement: it keeps its twin's place (and trace), and the SQL
that really ran is kept beside it.
"""

from __future__ import annotations

import re

Statement = tuple[int | None, str]

QUOTED = re.compile(r"'(?:[^']|'')*'")
TRAILER = re.compile(r";\s*SET CONSTRAINTS ALL IMMEDIATE\s*;?\s*$", re.IGNORECASE)


def shape(sql: str) -> str:
    """The statement with every quoted literal replaced (and PostgreSQL's trailing ``SET
    CONSTRAINTS ALL IMMEDIATE`` of a NULL-filling UPDATE dropped)."""
    return QUOTED.sub("?", TRAILER.sub(";", sql.strip()))


class Twins:
    """The rendered statements, each claimable once, exactly or by shape."""

    def __init__(self, rendered: list[Statement]) -> None:
        self.exact: dict[Statement, list[int]] = {}
        self.shaped: dict[Statement, list[int]] = {}
        for index, (operation, sql) in enumerate(rendered):
            self.exact.setdefault((operation, sql), []).append(index)
            self.shaped.setdefault((operation, shape(sql)), []).append(index)
        self.claimed: set[int] = set()

    def claim(self, statement: Statement | None) -> tuple[int | None, bool]:
        """The first waiting twin of ``statement`` and whether its SQL is byte-identical."""
        if statement is None:
            return None, False
        operation, sql = statement
        for candidates, exact in (
            (self.exact.get(statement), True),
            (self.shaped.get((operation, shape(sql))), False),
        ):
            for index in candidates or ():
                if index not in self.claimed:
                    self.claimed.add(index)
                    return index, exact
        return None, False
