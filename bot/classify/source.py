"""A migration file read as source, and new migration files written from its pieces.

A safer alternative must keep every operation of the original with all its arguments, so the
pieces are cut from the file's own text (``ast`` positions), never rebuilt from what the
collector reports: the operation ``migrations.AlterField(...)`` is copied as it was written.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field
from functools import lru_cache
from textwrap import dedent, indent

from bot.errors import ReviewError

OPERATION_INDENT = " " * 8
LINE_END = re.compile(r"\r\n|\r|\n")  # where ``ast`` ends a line


@dataclass
class Operation:
    """One item of ``operations = [...]``: its call, its source text and its keywords."""

    kind: str
    source: str
    call: ast.Call | None
    text: str = field(repr=False)

    def argument(self, name: str, position: int) -> str | None:
        """The source of the argument given as ``name=`` or at ``position``."""
        node = self.argument_node(name, position)
        return None if node is None else segment(self.text, node)

    def argument_node(self, name: str, position: int) -> ast.expr | None:
        if self.call is None:
            return None
        for keyword in self.call.keywords:
            if keyword.arg == name:
                return keyword.value
        return self.call.args[position] if len(self.call.args) > position else None


@dataclass
class MigrationSource:
    text: str
    preamble: str
    """Everything above ``class Migration``: imports and the functions RunPython calls."""
    dependencies: str
    """The source of the dependencies list."""
    operations: list[Operation]
    atomic: bool
    extra: list[str]
    """Other attributes of the class (initial, run_before, replaces), as source lines."""


def segment(text: str, node: ast.AST) -> str:
    """The source of ``node``, its continuation lines dedented as if it started a line.

    ``ast.get_source_segment`` splits the whole text into lines at every call: it is given the
    node's own lines only, so that cutting every operation of a file of thousands is not work
    in proportion to the file each time.
    """
    starts = _line_starts(text)
    first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1  # type: ignore[attr-defined]
    end = starts[last + 1] if last + 1 < len(starts) else len(text)
    shifted = copy.copy(node)
    shifted.lineno, shifted.end_lineno = 1, last - first + 1  # type: ignore[attr-defined]
    found = ast.get_source_segment(text[starts[first] : end], shifted, padded=True) or ""
    return dedent(found)


@lru_cache(maxsize=4)
def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in LINE_END.finditer(text))]


def parse(text: str, path: str) -> MigrationSource:
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise ReviewError(
            f"cannot read the migration: {exc.msg} (line {exc.lineno})", stage="classify", file=path
        ) from exc
    klass = next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Migration"), None
    )
    if klass is None:
        raise ReviewError("no class Migration in the file", stage="classify", file=path)
    lines = text.splitlines(keepends=True)
    start = min([klass.lineno, *(d.lineno for d in klass.decorator_list)]) - 1
    preamble = "".join(lines[:start]).rstrip() + "\n"
    dependencies, operations, atomic, extra = "[]", [], True, []
    for statement in klass.body:
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            continue
        target = statement.targets[0]
        name = target.id if isinstance(target, ast.Name) else None
        if name == "dependencies":
            dependencies = segment(text, statement.value)
        elif name == "operations" and isinstance(statement.value, ast.List):
            operations = [_operation(text, node) for node in statement.value.elts]
        elif name == "atomic":
            atomic = not (
                isinstance(statement.value, ast.Constant) and statement.value.value is False
            )
        elif name is not None:
            extra.append(f"{name} = {segment(text, statement.value)}")
    return MigrationSource(text, preamble, dependencies, operations, atomic, extra)


def _operation(text: str, node: ast.expr) -> Operation:
    call = node if isinstance(node, ast.Call) else None
    func = call.func if call else None
    kind = (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else "?"
    )
    return Operation(kind=kind, source=segment(text, node), call=call, text=text)


def imports_of(preamble: str) -> set[str]:
    """The names the preamble binds at top level (imports, functions, assignments)."""
    found: set[str] = set()
    for node in ast.parse(preamble).body:
        if isinstance(node, ast.Import):
            found |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            found |= {a.asname or a.name for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found.add(node.name)
    return found


def write(
    preamble: str,
    *,
    header: str,
    dependencies: list[str] | str,
    operations: list[str],
    atomic: bool = True,
    why_not_atomic: str = "",
    imports: list[str] | None = None,
    functions: list[str] | None = None,
    extra: list[str] | None = None,
) -> str:
    """A whole migration module: the original's preamble, what it needs more, the class."""
    bound = imports_of(preamble)
    uses_models = any("models." in op for op in operations)
    imports = [*(imports or []), *(["from django.db import models"] if uses_models else [])]
    added = [line for line in imports or [] if not _binds(line) <= bound and line not in preamble]
    lines = [f"# {text}" for text in header.splitlines()]
    lines += [_with_imports(preamble.rstrip(), sorted(added))]
    for function in functions or []:
        lines += ["", "", function.rstrip()]
    lines += ["", "", "class Migration(migrations.Migration):"]
    if not atomic:
        lines += [f"    # {why_not_atomic}", "    atomic = False", ""]
    lines += [f"    {line}" for line in extra or []]
    if isinstance(dependencies, str):
        lines.append("    dependencies = " + indent(dependencies, "    ").lstrip())
    else:
        lines += ["    dependencies = ["]
        lines += [f"        {item}," for item in dependencies]
        lines.append("    ]")
    lines += ["", "    operations = ["]
    lines += [indent(op.rstrip(), OPERATION_INDENT) + "," for op in operations]
    lines.append("    ]")
    return "\n".join(lines) + "\n"


def _with_imports(preamble: str, added: list[str]) -> str:
    """``preamble`` with the ``added`` import lines after its last top-level import."""
    if not added:
        return preamble
    imports = [n for n in ast.parse(preamble).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    lines = preamble.splitlines()
    at = imports[-1].end_lineno if imports else 0
    assert at is not None
    return "\n".join([*lines[:at], *added, *lines[at:]])


def _binds(line: str) -> set[str]:
    return imports_of(line)


def call(name: str, /, *arguments: str, **keywords: str) -> str:
    """``name(arg, key=value, ...)``, one argument per line when it does not fit one line."""
    items = [*arguments, *(f"{key}={value}" for key, value in keywords.items())]
    flat = f"{name}({', '.join(items)})"
    if len(flat) <= 80 and "\n" not in flat:
        return flat
    body = ",\n".join(indent(item, "    ") for item in items)
    return f"{name}(\n{body},\n)"


def string_list(items: list[str]) -> str:
    if len(items) == 1:
        return repr(items[0])
    return "[\n" + "".join(f"    {item!r},\n" for item in items) + "]"


def identifier(name: str) -> str:
    """A Python identifier made of ``name``'s words: for generated function names."""
    return re.sub(r"\W+", "_", name).strip("_").lower() or "step"


class FieldEdit:
    """A field assignment in a model class of models.py, and that file with the field edited."""

    def __init__(self, text: str, call: ast.Call) -> None:
        self.text = text
        self.call = call
        self.code = ast.get_source_segment(text, call) or ""
        self.path = ""

    @classmethod
    def find(cls, text: str, model: str, field: str) -> FieldEdit | None:
        """The field's call, when it names nothing but ``models.`` and literals (so that it
        reads the same in a migration)."""
        try:
            tree = ast.parse(text)
        except SyntaxError:
            return None
        for node in tree.body:
            if not (isinstance(node, ast.ClassDef) and node.name.lower() == model.lower()):
                continue
            for statement in node.body:
                if (
                    isinstance(statement, ast.Assign)
                    and [getattr(t, "id", None) for t in statement.targets] == [field]
                    and isinstance(statement.value, ast.Call)
                    and _only_models(statement.value)
                ):
                    return cls(text, statement.value)
        return None

    def code_with(self, keyword: str, value: str) -> str:
        """The field's call with ``keyword`` set to the string ``value``."""
        return self.code_with_source(keyword, _string(value))

    def code_with_source(self, keyword: str, source: str) -> str:
        """The field's call with ``keyword`` set to the Python expression ``source``."""
        inside = self.code[: self.code.rindex(")")].rstrip()
        joiner = "" if inside.endswith(("(", ",")) else ", "
        space = " " if inside.endswith(",") else ""
        return f"{inside}{joiner}{space}{keyword}={source})"

    def with_keyword(self, keyword: str, value: str) -> str:
        """models.py with the field's ``keyword`` set to the string ``value``."""
        return self.with_source(keyword, _string(value))

    def with_source(self, keyword: str, source: str) -> str:
        """models.py with the field's ``keyword`` set to the Python expression ``source``."""
        lines = self.text.splitlines(keepends=True)
        start = sum(len(line) for line in lines[: self.call.lineno - 1]) + self.call.col_offset
        end = start + len(self.code)
        return self.text[:start] + self.code_with_source(keyword, source) + self.text[end:]


def _string(value: str) -> str:
    return f'"{value}"' if '"' not in value and "\\" not in value else repr(value)


def _only_models(call: ast.Call) -> bool:
    """Whether the call names nothing but ``models.`` and literals: it reads the same in a
    migration file."""
    names = {n.id for n in ast.walk(call) if isinstance(n, ast.Name)}
    return names <= {"models", "True", "False", "None"}
