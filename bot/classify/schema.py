"""A small model of the schema the statements under review change, built as they are read.

The lock a statement takes rarely depends on the schema, but its cost often does: whether a type
change is binary-coercible depends on the column's current type, whether SET NOT NULL scans
depends on a validated CHECK, which other table a DROP CONSTRAINT locks depends on the
constraint being a foreign key. The classifier learns these from earlier CREATE TABLE / ALTER
statements of the same input (and from the migration's ``OperationInfo``), and says so when it
cannot know.

Relations are keyed by their name as PostgreSQL resolves it: unqualified for ``public``,
``schema.name`` otherwise.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from pglast import ast, parse_sql
from pglast.parser import ParseError

_ALIASES = {
    "int": "int4",
    "integer": "int4",
    "smallint": "int2",
    "bigint": "int8",
    "serial": "serial4",
    "bigserial": "serial8",
    "smallserial": "serial2",
    "decimal": "numeric",
    "real": "float4",
    "float": "float8",
    "boolean": "bool",
    "character varying": "varchar",
    "character": "bpchar",
    "bit varying": "varbit",
}

SERIAL_TYPES = frozenset({"serial2", "serial4", "serial8"})

# Type changes PostgreSQL makes without touching the rows (binary-coercible casts whose typmod
# change is a no-op; ATColumnChangeRequiresRewrite in tablecmds.c decides, the trace confirms).
_WIDENING_LENGTH = frozenset({"varchar", "varbit"})
_WIDENING_PRECISION = frozenset({"timestamp", "timestamptz", "time", "timetz"})
_RELABEL = {("varchar", "text"), ("cidr", "inet")}


@dataclass(frozen=True)
class SqlType:
    """A column type as the parser resolves it: canonical name, typmods, array or not."""

    name: str
    mods: tuple[int, ...] = ()
    array: bool = False

    @classmethod
    def from_node(cls, node: ast.TypeName) -> SqlType:
        names = [n.sval for n in node.names]
        if len(names) == 2 and names[0] == "pg_catalog":
            names = names[1:]
        name = ".".join(names)
        mods: list[int] = []
        for mod in node.typmods or ():
            value = getattr(mod, "val", None)
            if isinstance(value, ast.Integer):
                mods.append(value.ival)
        return cls(_ALIASES.get(name, name), tuple(mods), bool(node.arrayBounds))

    @classmethod
    def parse(cls, text: str) -> SqlType | None:
        """A type as Django's ``db_type()`` spells it, e.g. ``varchar(100)``; None if unreadable."""
        try:
            stmt = parse_sql(f"SELECT NULL::{text}")[0].stmt
        except ParseError:
            return None
        cast = stmt.targetList[0].val
        return cls.from_node(cast.typeName) if isinstance(cast, ast.TypeCast) else None

    def __str__(self) -> str:
        mods = f"({', '.join(map(str, self.mods))})" if self.mods else ""
        return f"{self.name}{mods}{'[]' if self.array else ''}"


def change_rewrites(old: SqlType, new: SqlType, *, pg_version: int) -> tuple[bool, str | None]:
    """Whether ALTER COLUMN TYPE from ``old`` to ``new`` rewrites the table, and a caveat."""
    if old == new:
        return False, None
    if old.array or new.array:
        return True, None
    if old.name == new.name:
        if old.name in _WIDENING_LENGTH | _WIDENING_PRECISION:
            widening = not new.mods or (bool(old.mods) and new.mods[0] >= old.mods[0])
            return not widening, None
        if old.name == "numeric":
            if not new.mods:
                return False, None
            if not old.mods:
                return True, None
            old_precision, old_scale = (*old.mods, 0)[:2]
            new_precision, new_scale = (*new.mods, 0)[:2]
            return not (new_scale == old_scale and new_precision >= old_precision), None
        return True, None
    if (old.name, new.name) in _RELABEL:
        return False, None
    if old.name == "text" and new.name == "varchar" and not new.mods:
        return False, None
    if {old.name, new.name} == {"timestamp", "timestamptz"} and pg_version >= 12:
        return False, (
            "no rewrite when the session time zone is UTC (Django sets it with USE_TZ=True); "
            "under any other time zone PostgreSQL rewrites the table"
        )
    return True, None


@dataclass
class Column:
    name: str
    type: SqlType | None = None
    not_null: bool = False


@dataclass
class Constraint:
    name: str
    table: str
    kind: str
    """check, foreign_key, unique, primary_key, exclusion or not_null."""
    validated: bool = True
    columns: tuple[str, ...] = ()
    references: str | None = None
    deferred: bool = False
    """INITIALLY DEFERRED: its checks run at COMMIT, not at the statement."""
    on_delete: str = "a"
    """pg_constraint.confdeltype: a no action, r restrict, c cascade, n set null, d set default."""
    proves_not_null: tuple[str, ...] = ()
    """Columns a CHECK proves non-null (``col IS NOT NULL``), which lets SET NOT NULL skip its
    scan from PostgreSQL 12 once the constraint is validated."""


@dataclass
class Table:
    name: str
    kind: str = "table"
    """table, partitioned, view or matview."""
    columns: dict[str, Column] = field(default_factory=dict)
    partitions: list[str] = field(default_factory=list)
    reads: set[str] = field(default_factory=set)
    """For views and materialized views: the relations their query reads."""


@dataclass
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)
    """index name -> table name."""
    constraints: dict[tuple[str, str], Constraint] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)
    """Relations created by the statements under review: nobody else can be using them yet."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Pre-existing relations renamed by the statements under review: new name -> old name."""

    made: set[str] = field(default_factory=set)
    """Relations created by any migration of this review so far: no release uses them yet."""

    def start_unit(self) -> None:
        """What exists now is pre-existing for the statements that follow."""
        self.made |= self.created
        self.created = set()
        self.aliases = {}

    def copy(self) -> Schema:
        return copy.deepcopy(self)

    def is_new(self, relation: str) -> bool:
        return relation in self.created

    def made_in_review(self, relation: str) -> bool:
        return relation in self.made or relation in self.created

    def column(self, table: str, name: str) -> Column | None:
        known = self.tables.get(table)
        return known.columns.get(name) if known else None

    def constraint(self, table: str, name: str) -> Constraint | None:
        return self.constraints.get((table, name))

    def foreign_keys_of(self, table: str) -> list[Constraint]:
        return [c for c in self.constraints.values() if c.table == table and c.references]

    def foreign_keys_to(self, table: str) -> list[Constraint]:
        return [
            c
            for c in self.constraints.values()
            if c.references == table and c.kind == "foreign_key" and c.table != table
        ]

    def views_reading(self, name: str) -> list[str]:
        """Views and materialized views that depend on ``name``, directly or through others."""
        found: list[str] = []
        pending = [name]
        while pending:
            current = pending.pop()
            for view in self.tables.values():
                if current in view.reads and view.name not in found:
                    found.append(view.name)
                    pending.append(view.name)
        return found

    def add_table(self, table: Table, *, created: bool) -> None:
        self.tables[table.name] = table
        if created:
            self.created.add(table.name)

    def add_constraint(self, constraint: Constraint) -> None:
        self.constraints[(constraint.table, constraint.name)] = constraint

    def drop_table(self, name: str) -> None:
        table = self.tables.pop(name, None)
        for key in [k for k, c in self.constraints.items() if c.table == name]:
            del self.constraints[key]
        for index in [i for i, t in self.indexes.items() if t == name]:
            del self.indexes[index]
        for part in table.partitions if table else []:
            self.drop_table(part)

    def rename_table(self, old: str, new: str) -> None:
        table = self.tables.pop(old, None)
        if table is not None:
            table.name = new
            self.tables[new] = table
        for key, constraint in list(self.constraints.items()):
            if constraint.references == old:
                constraint.references = new
            if constraint.table == old:
                del self.constraints[key]
                constraint.table = new
                self.constraints[(new, constraint.name)] = constraint
        for index, table_name in self.indexes.items():
            if table_name == old:
                self.indexes[index] = new
        for view in self.tables.values():
            if old in view.reads:
                view.reads = (view.reads - {old}) | {new}
        if old in self.created:
            self.created.discard(old)
            self.created.add(new)
        else:
            self.aliases[new] = self.aliases.pop(old, old)

    def rename_column(self, table: str, old: str, new: str) -> None:
        known = self.tables.get(table)
        if known and old in known.columns:
            column = known.columns.pop(old)
            column.name = new
            known.columns[new] = column
        for constraint in self.constraints.values():
            if constraint.table == table:
                constraint.columns = tuple(new if c == old else c for c in constraint.columns)
                constraint.proves_not_null = tuple(
                    new if c == old else c for c in constraint.proves_not_null
                )
