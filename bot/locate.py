"""Where in a migration file each operation is written, for annotations on the right line.

Read with ``ast`` from the file at head, never imported: importing would run the pull
request's code in the bot's process.
"""

from __future__ import annotations

import ast
from pathlib import Path


def operation_lines(path: Path) -> tuple[int, list[int]]:
    """The line of ``class Migration`` and the line of each entry of its ``operations`` list.

    A file that does not parse, or builds its operations some other way, gives line 1 and no
    operation lines: the annotation then lands at the top of the file, which is still the file.
    """
    class_line, spans = operation_spans(path)
    return class_line, [first for first, _ in spans]


def operation_spans(path: Path) -> tuple[int, list[tuple[int, int]]]:
    """``operation_lines`` with the last line of each operation too: (first, last) each."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return 1, []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Migration":
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign | ast.AnnAssign)
                    and _assigns(statement, "operations")
                    and isinstance(statement.value, ast.List | ast.Tuple)
                ):
                    elements = statement.value.elts
                    spans = [(e.lineno, e.end_lineno or e.lineno) for e in elements]
                    return node.lineno, spans
            return node.lineno, []
    return 1, []


def _assigns(statement: ast.Assign | ast.AnnAssign, name: str) -> bool:
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    return any(isinstance(target, ast.Name) and target.id == name for target in targets)
