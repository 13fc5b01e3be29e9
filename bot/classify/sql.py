"""Splitting SQL text into statements, each parsed by pglast, each knowing its line; and the
tokenizer the MySQL/MariaDB and SQLite analyzers read statements with.

sqlparse splits (it keeps every character, so offsets and line numbers stay exact); pglast parses
each piece exactly as the server would. A piece that does not parse keeps its error, so a
migration statement can still be reviewed ("needs review") while ``check-sql`` reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlparse
from pglast import ast, parse_sql
from pglast.parser import ParseError
from sqlparse import lexer
from sqlparse import tokens as T

from bot.models import Lock, Work


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


def statements(text: str) -> list[tuple[str, int]]:
    """The statements of ``text`` and the line each starts on; empty ones (``;``) left out."""
    return [(statement, line) for statement, line in pieces(text) if words(statement)]


def short(sql: str, limit: int = 80) -> str:
    """``sql`` on one line, cut to ``limit`` characters: for messages."""
    text = " ".join(sql.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def words(sql: str) -> str:
    """``sql`` without comments, its whitespace collapsed: to match one statement to another."""
    text = sqlparse.format(sql, strip_comments=True)
    return " ".join(text.split()).rstrip(";").strip()


# -- tokens, for the backends pglast does not read ------------------------------------------


@dataclass(frozen=True)
class Token:
    text: str
    word: str
    """Upper-cased bare word, '' for quoted names, strings, numbers and punctuation."""
    name: str
    """The identifier it names, unquoted ('' for strings, numbers and punctuation)."""


def tokens(sql: str) -> list[Token]:
    """The statement's tokens, without whitespace, comments and its closing semicolon.

    sqlparse lexes some keyword pairs as one token ("NOT NULL"): they become one per word.
    """
    found: list[Token] = []
    for ttype, value in lexer.tokenize(sql):
        if ttype in T.Whitespace or ttype in T.Newline or ttype in T.Comment:
            continue
        if value.startswith("`"):
            found.append(Token(value, "", value[1:-1].replace("``", "`")))
        elif value.startswith('"'):  # an identifier in SQLite (and MySQL's ANSI_QUOTES mode)
            found.append(Token(value, "", value[1:-1].replace('""', '"')))
        elif ttype in T.Keyword or ttype in T.Name or (ttype in T.Literal and value[0].isalpha()):
            found += [Token(word, word.upper(), word) for word in value.split()]
        else:
            found.append(Token(value, "", ""))
    while found and found[-1].text == ";":
        found.pop()
    return found


def split_clauses(items: list[Token]) -> list[list[Token]]:
    """ALTER TABLE's specifications: split at the commas outside parentheses."""
    clauses: list[list[Token]] = [[]]
    depth = 0
    for token in items:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif token.text in (",", ";") and depth == 0:
            clauses.append([])
            continue
        clauses[-1].append(token)
    return [clause for clause in clauses if clause]


def keywords(items: list[Token]) -> list[str]:
    """The upper-cased bare words of ``items`` ('' for the other tokens)."""
    return [token.word for token in items]


def text_of(items: list[Token], *, plain: bool = False) -> str:
    """Tokens back to compact SQL: ``varchar ( 20 )`` -> ``varchar(20)``.

    ``plain`` leaves the backticks off names that need none, for messages.
    """
    out = ""
    for token in items:
        text = token.text
        if plain and text.startswith("`") and re.fullmatch(r"[A-Za-z_]\w*", token.name):
            text = token.name
        glue = out and not (out.endswith("(") or token.text in ("(", ")", ","))
        out += (" " if glue else "") + text
    return out


def verb_work(sql: str, locks: list[Lock], *, rewrite: bool, scan: bool) -> Work:
    """The kind of work of a MySQL or SQLite statement: rewrite and scan from its view, the rest
    from its verb; the table is the one its first lock is on."""
    text = sql.upper()
    target = locks[0].relation if locks else None
    verb = text.split(None, 1)[0] if text.strip() else ""
    if rewrite:
        return Work(kind="rewrite", table=target)
    if verb in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
        verbs = {"UPDATE": "updates", "DELETE": "deletes"}
        return Work(
            kind="dml", table=target, verb=verbs.get(verb, "inserts"), where=" WHERE " in text
        )
    if scan:
        kind = "index" if "INDEX" in text or "UNIQUE" in text else "scan"
        return Work(kind=kind, table=target)
    return Work(kind="catalog", table=target)
