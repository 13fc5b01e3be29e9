"""Putting text into the review comment so that it says what it says and does nothing else.

Much of what the comment shows comes from the pull request: file and migration names, operation
descriptions (a field may be called ``g @someone``), error messages of the project's code, ignore
reasons, the SQL of a ``RunSQL``, and anything the collector reports (it runs the PR's code). On
GitHub such text could ping people and teams (``@org/team``), cross-link issues (``#42``), close
a ``<details>`` early, inject HTML, end a code fence so that the rest of the comment renders as
code, break a table row, or copy the hidden marker the sticky comment is found by.

Each function makes text inert for one place in the Markdown; the templates use them as filters:

- ``text``: a user's string in running text or a table cell, on one line;
- ``code``: a user's string as an inline code span;
- ``fence``: a block of user text (SQL, a traceback) as a fenced code block;
- ``cell``: Markdown already made inert, for a table cell (pipes escaped, also in code spans);
- ``prose``: the tool's own Markdown with user values inside (a finding's message, its safer
  code): outside its code spans and fences, mentions, references and HTML are neutralised, and an
  unclosed fence is closed;
- ``html``: a user's string inside raw HTML (``<summary>``).

Mentions and references are broken with a zero-width space after ``@``/``#`` (``&#8203;``, as
Dependabot does): the text reads the same, GitHub links nothing. Inside code, where an entity
would show as typed, nothing links anyway; there only the start of an HTML comment is broken, so
that no user text can reproduce the marker.
"""

from __future__ import annotations

import html as html_lib
import re

ZWSP = "\u200b"
_ENTITY_ZWSP = "&#8203;"

# GitHub links @user, @org/team, #123, owner/repo#123 and GH-123 in text; an e-mail address is
# autolinked by its "@" too.
_LINKING = re.compile(r"(@|#|\bGH-)(?=\w)", re.IGNORECASE)
_TEXT_ESCAPES = re.compile(r"([\\`*_\[\]|~])")
_LINE_START = re.compile(r"^(\s*\d*)([#+\-=.)])(?=\s|$)")
_BACKTICKS = re.compile(r"`+")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def _unlink(text: str, marker: str = _ENTITY_ZWSP) -> str:
    return _LINKING.sub(lambda m: m.group(1) + marker, text)


def _break_comments(text: str) -> str:
    """Inside code: an HTML comment start can no longer spell the comment's marker."""
    return text.replace("<!--", "<!" + ZWSP + "--")


def inline_text(text: object) -> str:
    """A user's string as literal text on one line, safe in a paragraph, a list or a table cell."""
    escaped = html_lib.escape(one_line(text), quote=False)
    escaped = _TEXT_ESCAPES.sub(r"\\\1", escaped)
    escaped = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped, count=1)
    return _unlink(escaped)


def code_span(text: object) -> str:
    """A user's string on one line as an inline code span, whatever backticks it holds."""
    content = _break_comments(one_line(text))
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(content)), default=0) + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def fence(text: object, lang: str = "") -> str:
    """``text`` as a fenced code block, its fence longer than any backtick run inside."""
    content = _break_comments(str(text).strip("\n"))
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{lang}\n{content}\n{marks}\n"


def table_cell(markdown: object) -> str:
    """Inert Markdown on one line with its pipes escaped: GitHub splits a table row at every
    unescaped ``|``, inside code spans too, and unescapes ``\\|`` there."""
    return re.sub(r"(?<!\\)\|", r"\\|", one_line(markdown))


def html_text(text: object) -> str:
    """A user's string on one line inside raw HTML, such as a ``<summary>``."""
    return _unlink(html_lib.escape(one_line(text), quote=True))


def prose(markdown: object, inline: bool = False) -> str:
    """The tool's Markdown holding user values: neutralised outside code, which stays as is.

    Code spans and fences are found the way CommonMark finds them, so what is outside them here
    is what GitHub renders as text. ``inline`` puts it on one line, for a list item.
    """
    text = one_line(markdown) if inline else str(markdown)
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opened = _FENCE_OPEN.match(lines[i])
        if opened is None or (opened[1][0] == "`" and "`" in lines[i][opened.end() :]):
            start = i
            while i < len(lines) and not _opens_fence(lines[i]):
                i += 1
            out.append(_prose_text("\n".join(lines[start:i])))
            continue
        closing = re.compile(rf"^ {{0,3}}{re.escape(opened[1][0])}{{{len(opened[1])},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        block = lines[i : (end if end is not None else len(lines) - 1) + 1]
        if end is None:
            block.append(opened[1])
        out.append(_break_comments("\n".join(block)))
        i = (end if end is not None else len(lines)) + 1
    return "\n".join(out)


def _opens_fence(line: str) -> bool:
    opened = _FENCE_OPEN.match(line)
    return opened is not None and not (opened[1][0] == "`" and "`" in line[opened.end() :])


def _prose_text(text: str) -> str:
    """Text between fences: its code spans kept, the rest neutralised."""
    out: list[str] = []
    position = 0
    for opener in _BACKTICKS.finditer(text):
        if opener.start() < position:
            continue
        if opener.start() > 0 and text[opener.start() - 1] == "\\":
            continue
        closer = re.compile(rf"(?<!`){opener[0]}(?!`)").search(text, opener.end())
        if closer is None:
            continue
        out.append(_neutral(text[position : opener.start()]))
        out.append(_break_comments(text[opener.start() : closer.end()]))
        position = closer.end()
    out.append(_neutral(text[position:]))
    return "".join(out)


def _neutral(text: str) -> str:
    return _unlink(text.replace("&", "&amp;").replace("<", "&lt;"))
