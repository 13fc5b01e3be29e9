"""Splitting SQL text into statements, each parsed by pglast, each knowing its line.

sqlparse splits (it keeps every character, so offsets and line numbers stay exact); pglast parses
each piece exactly as the server would. A piece that does not parse keeps its error, so a
migration statement can still be reviewed ("needs review") while ``check-sql`` reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlparse
from pglast import ast, parse_sql
from pglast.parser import ParseError
from sqlparse import tokens as T


@dataclass
class Parsed:
    sql: str
    """The statement's text, leading comments and surrounding whitespace left out."""
    line: int
    """1-based line of its first character in the input."""
    nodes: list[ast.Node] = field(default_factory=list)
    error: str | None = None
    error_line: int | None = None


def _lead(piece: sqlparse.sql.Statement) -> int:
    """Characters of whitespace and comments before the statement proper."""
    offset = 0
    for token in piece.flatten():
        if not (token.is_whitespace or token.ttype in T.Comment):
            return offset
        offset += len(str(token))
    return offset


def pieces(text: str) -> list[tuple[str, int]]:
    """The statements of ``text`` as sqlparse splits them, each with the line it starts on.

    Any dialect: MySQL and SQLite statements are split here too, and read by their own
    classifiers.
    """
    found: list[tuple[str, int]] = []
    offset = 0
    for piece in sqlparse.parse(text):
        raw = str(piece)
        start = offset
        offset += len(raw)
        lead = _lead(piece)
        statement = raw[lead:].strip()
        if statement:
            found.append((statement, text.count("\n", 0, start + lead) + 1))
    return found


def split(text: str) -> list[Parsed]:
    parsed: list[Parsed] = []
    for statement, line in pieces(text):
        item = Parsed(sql=statement, line=line)
        try:
            item.nodes = [s.stmt for s in parse_sql(statement)]
        except ParseError as exc:
            message, position = (*exc.args, None)[:2]
            item.error = str(message)
            item.error_line = line + (
                statement.count("\n", 0, position) if isinstance(position, int) else 0
            )
        if item.nodes or item.error:
            parsed.append(item)
    return parsed


def words(sql: str) -> str:
    """``sql`` without comments, its whitespace collapsed: to match one statement to another."""
    text = sqlparse.format(sql, strip_comments=True)
    return " ".join(text.split()).rstrip(";").strip()
