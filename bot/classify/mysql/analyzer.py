"""MySQL and MariaDB: what each statement makes the server do, read from sqlparse's tokens.

pglast reads PostgreSQL only. Here a statement is tokenized by sqlparse and an ALTER TABLE read
clause by clause; for each clause the online DDL manuals (MySQL's "Online DDL Operations",
MariaDB's "InnoDB Online DDL Operations with the INSTANT / NOCOPY / INPLACE Alter Algorithm")
give, by server version, the most efficient ALGORITHM the server can use (INSTANT, NOCOPY on
MariaDB, INPLACE, COPY), whether it rebuilds the table, and the least restrictive LOCK it allows
(NONE, SHARED, EXCLUSIVE). A statement gets the least efficient algorithm and the most
restrictive lock of its clauses: what the server picks when the statement names neither. The
collector's probe asks the server the same question on the scratch database; its answer wins.

Every ALTER also takes the table's exclusive metadata lock, briefly, at its start and its end:
behind a long transaction on the table it waits, and every query on the table waits behind it.

Assumed, as Django creates tables and as servers default: InnoDB, ROW_FORMAT=DYNAMIC, utf8mb4
text columns, strict SQL mode, foreign_key_checks=1, no FULLTEXT or SPATIAL index on the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from itertools import pairwise

from bot.classify.risk import Hit, Reading, View, rate
from bot.classify.schema import Column, Schema, SqlType, Table
from bot.classify.sql import Token, keywords, split_clauses, text_of, tokens, verb_work
from bot.models import Blocks, Lock, OperationInfo, Risk, Trace

ALGORITHMS = ("INSTANT", "NOCOPY", "INPLACE", "COPY")
"""Most efficient first: ALGORITHM=X asks the server for X or better."""
LOCKS = ("NONE", "SHARED", "EXCLUSIVE")
LOCK_BLOCKS: dict[str, Blocks] = {"NONE": "none", "SHARED": "writes", "EXCLUSIVE": "reads"}
METADATA_LOCK = "METADATA (brief)"
"""The exclusive metadata lock every ALTER takes at its start and end."""

# Bytes per character of the character sets a column may name; utf8mb4 otherwise.
CHARSET_BYTES = {"latin1": 1, "ascii": 1, "binary": 1, "utf8": 3, "utf8mb3": 3, "utf8mb4": 4}
DEFAULT_CHARSET_BYTES = 4
INTEGERS = ("tinyint", "smallint", "mediumint", "int", "bigint")
_TYPE_ALIASES = {"integer": "int", "bool": "tinyint(1)", "boolean": "tinyint(1)"}
# Words that end a column's type in its definition.
_ATTRIBUTES = frozenset(
    {
        *("NULL", "NOT", "DEFAULT", "AUTO_INCREMENT", "UNIQUE", "PRIMARY", "KEY", "COMMENT"),
        *("COLLATE", "CHARACTER", "CHARSET", "FIRST", "AFTER", "REFERENCES", "CHECK"),
        *("GENERATED", "AS", "ON", "INVISIBLE", "VISIBLE", "CONSTRAINT", "STORAGE"),
        *("COLUMN_FORMAT", "PERSISTENT", "STORED", "VIRTUAL"),
    }
)


@dataclass(frozen=True)
class Server:
    """The MySQL or MariaDB server the rules are read for."""

    mariadb: bool
    version: tuple[int, int, int]

    @classmethod
    def parse(cls, text: str | None) -> Server:
        """From a version string: "10.11.19-MariaDB-0+deb12u1", "8.0.36", "10.6-mariadb"."""
        if not text:
            return DEFAULT_SERVER
        match = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
        if match is None:
            raise ValueError(f"not a MySQL or MariaDB version: {text!r}")
        major, minor, patch = (int(part or 0) for part in match.groups())
        return cls("mariadb" in text.lower(), (major, minor, patch))

    def at_least(self, *version: int) -> bool:
        return self.version >= version

    @property
    def name(self) -> str:
        return "MariaDB" if self.mariadb else "MySQL"

    def __str__(self) -> str:
        return f"{self.name} {self.version[0]}.{self.version[1]}.{self.version[2]}"

    @property
    def instant(self) -> bool:
        """ALGORITHM=INSTANT exists: MariaDB 10.3.7, MySQL 8.0.12."""
        return self.at_least(10, 3, 7) if self.mariadb else self.at_least(8, 0, 12)

    @property
    def online_copy(self) -> bool:
        """MariaDB 11.2 copies a table with LOCK=NONE (MDEV-16329)."""
        return self.mariadb and self.at_least(11, 2)

    def algorithm(self, wanted: str) -> str:
        """``wanted`` as this server names it: without INSTANT or NOCOPY, INPLACE does it."""
        if wanted == "INSTANT" and not self.instant:
            return "INPLACE"
        if wanted == "NOCOPY" and not (self.mariadb and self.instant):
            return "INPLACE"
        return wanted


DEFAULT_SERVER = Server(mariadb=False, version=(8, 4, 0))
"""What check-sql assumes without --server-version: MySQL 8.4 LTS."""


@dataclass(frozen=True)
class Step:
    """What one clause needs from the server."""

    algorithm: str
    lock: str = "NONE"
    rebuild: bool = False
    scan: bool = False
    column: bool = False
    """An instant ADD, DROP or move of a column: it rebuilds the table unless every clause of
    the statement is instant too ("cannot combine" in MySQL's manual)."""


INSTANT = Step("INSTANT")
INSTANT_COLUMN = Step("INSTANT", column=True)
METADATA = Step("NOCOPY")
"""Changes the table's definition only, on servers without INSTANT for it."""


@dataclass
class Plan:
    """What the server does for one statement: the static reading, or the probe's."""

    kind: str
    """alter, index, create, drop, rename, dml, session, query or other."""
    table: str | None = None
    algorithm: str | None = None
    lock: str | None = None
    rebuild: bool = False
    scan: bool = False
    dml: bool = False
    new_table: bool = False
    what: str = ""
    """The ALTER TABLE's specification, for the messages."""
    alter: str = ""
    """The same, as SQL, for the tools that run it."""
    foreign_key: bool = False
    """Adds a foreign key: the reason for a copy, with its own safer way."""
    hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def hit(self, rule: str, **values: str) -> None:
        self.hits.append(Hit(rule, values))

    def rule_hits(self) -> list[Hit]:
        """The hazards found while reading, and the rule its algorithm and lock call for."""
        return self.hits + algorithm_hits(self)


# -- column definitions ----------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnDef:
    name: str
    type: str
    """Normalized: lower case, no spaces in parentheses, aliases resolved."""
    not_null: bool = False
    auto_increment: bool = False
    stored: bool = False
    virtual: bool = False
    indexed: bool = False
    position: bool = False
    charset: str | None = None
    collation: str | None = None

    @property
    def chars(self) -> int | None:
        match = re.fullmatch(r"varchar\((\d+)\)", self.type)
        return int(match.group(1)) if match else None

    @property
    def bytes_per_char(self) -> int:
        return CHARSET_BYTES.get(self.charset or "", DEFAULT_CHARSET_BYTES)


def normalize_type(text: str) -> str:
    text = re.sub(r"\s*([(),])\s*", r"\1", text.strip().lower())
    text = re.sub(r"\s+", " ", text)
    base, _, rest = text.partition("(")
    base = _TYPE_ALIASES.get(base, base)
    if base in INTEGERS and rest:
        rest = re.sub(r"^\d+\)", "", rest)  # display width: int(11) is int
        return base + (rest and " " + rest.strip())
    return base + ("(" + rest if rest else "")


def column_def(items: list[Token]) -> ColumnDef:
    """A column definition: its name, then type and attributes."""
    name = items[0].name
    rest = items[1:]
    end = next((i for i, t in enumerate(rest) if t.word in _ATTRIBUTES), len(rest))
    kinds = keywords(rest[end:])
    charset = collation = None
    for i, word in enumerate(kinds[:-1]):
        following = rest[end + i + 1]
        if word in ("CHARSET", "SET") and following.word not in ("DEFAULT",):
            charset = following.name.lower()
        if word == "COLLATE":
            collation = following.name.lower()
    return ColumnDef(
        name=name,
        type=normalize_type(text_of(rest[:end])),
        not_null=_follows(kinds, "NOT", "NULL") or "PRIMARY" in kinds,
        auto_increment="AUTO_INCREMENT" in kinds,
        stored="STORED" in kinds or "PERSISTENT" in kinds,
        virtual="VIRTUAL" in kinds or ("AS" in kinds and "STORED" not in kinds),
        indexed="UNIQUE" in kinds or "PRIMARY" in kinds,
        position="FIRST" in kinds or "AFTER" in kinds,
        charset=charset,
        collation=collation,
    )


def column_of(field_db_type: str | None, null: bool, name: str) -> ColumnDef | None:
    if not field_db_type:
        return None
    return ColumnDef(name=name, type=normalize_type(field_db_type), not_null=not null)


# -- the analyzer ----------------------------------------------------------------------------


class Analyzer:
    """Reads statements in order, learning the tables they create and change.

    ``schema`` keeps what earlier statements (and migrations) built: tables created in the unit
    under review, and column types (kept as MySQL spells them) for MODIFY and CHANGE.
    """

    def __init__(self, server: Server, schema: Schema | None = None) -> None:
        self.server = server
        self.schema = schema if schema is not None else Schema()
        self.held: dict[str, str] = {}
        """MySQL commits every DDL statement at once: no lock outlives its statement."""
        self.foreign_key_checks = True
        self.lock_wait_timeout = False
        self.new_primary_key = False

    def _session(self, items: list[Token]) -> None:
        """The session settings that change what later statements do."""
        text = " ".join(t.text.lower() for t in items)
        match = re.search(r"foreign_key_checks\s*=\s*(\w+)", text)
        if match:
            self.foreign_key_checks = match.group(1) not in ("0", "off", "false")
        if re.search(r"lock_wait_timeout\s*=", text):
            self.lock_wait_timeout = True

    def read(
        self, sql: str, operation: OperationInfo | None = None, trace: Trace | None = None
    ) -> Reading:
        """The statement's static view and, when the collector probed it, the probe's."""
        plan = self.plan(sql, operation)
        reading = Reading(
            static=_view(plan, sql),
            ddl=plan.kind in ("alter", "index", "create", "drop", "rename"),
            lock_timeout=self.lock_wait_timeout,
        )
        if trace is not None and trace.method == "probe":
            probed = traced_plan(plan, trace, self.server)
            reading.traced = _view(probed, sql)
            reading.disagreements = disagreements(plan, probed)
        return reading

    def plan(self, sql: str, operation: OperationInfo | None = None) -> Plan:
        """What the server does for the statement, as its manuals say."""
        items = tokens(sql)
        if not items:
            return Plan("other")
        head = keywords(items[:4])
        if head[:2] == ["ALTER", "TABLE"] or head[:3] == ["ALTER", "ONLINE", "TABLE"]:
            start = head.index("TABLE") + 1
            if items[start].word == "IGNORE":
                start += 1
            return self._alter(items[start].name, items[start + 1 :], operation)
        if head[0] == "CREATE" and "INDEX" in head:
            return self._create_index(items)
        if head[0] == "CREATE" and "TABLE" in head:
            return self._create_table(items)
        if head[:2] == ["DROP", "INDEX"]:
            return self._drop_index(items)
        if head[:2] == ["DROP", "TABLE"]:
            return self._drop_table(items)
        if head[:2] == ["RENAME", "TABLE"]:
            return self._rename_table(items[2].name, items[4].name)
        if head[0] in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            return self._dml(items, sql)
        if head[0] == "TRUNCATE":
            table = items[2].name if head[1:2] == ["TABLE"] else items[1].name
            reading = Plan("drop", table=table, algorithm="INSTANT")
            reading.hit("MR-TRUNCATE", table=table)
            return reading
        if head[0] == "SET":
            self._session(items)
            return Plan("session")
        if head[0] in ("SELECT", "SHOW", "DO", "BEGIN", "COMMIT", "START", "ROLLBACK"):
            return Plan("query")
        reading = Plan("other")
        reading.hit("MR-UNRECOGNISED", statement=_short(sql))
        return reading

    # -- ALTER TABLE -------------------------------------------------------------------------

    def _alter(self, table: str, rest: list[Token], operation: OperationInfo | None) -> Plan:
        reading = Plan("alter", table=table, new_table=self.schema.is_new(table))
        clauses = split_clauses(rest)
        # A primary key dropped and another added in the same statement: rebuilt in place.
        self.new_primary_key = any(
            keywords(clause)[:1] == ["ADD"] and "PRIMARY" in keywords(clause)[:4]
            for clause in clauses
        )
        steps = [self._clause(table, clause, operation, reading) for clause in clauses]
        steps = [step for step in steps if step is not None]
        if not steps:
            steps = [INSTANT]
        worst = max((self.server.algorithm(step.algorithm) for step in steps), key=ALGORITHMS.index)
        rebuilt_column = worst != "INSTANT" and any(step.column for step in steps)
        if rebuilt_column:
            worst = max(worst, "INPLACE", key=ALGORITHMS.index)
        reading.algorithm = worst
        reading.rebuild = any(step.rebuild for step in steps) or worst == "COPY" or rebuilt_column
        reading.scan = any(step.scan for step in steps) or reading.rebuild
        if worst == "INSTANT":
            reading.lock = None
        elif worst == "COPY":
            reading.lock = "NONE" if self.server.online_copy else "SHARED"
            if self.server.online_copy:
                reading.notes.append(
                    f"{self.server.name} 11.2+ copies with LOCK=NONE, except for tables with "
                    "foreign keys that cascade (MDEV-16329)"
                )
        else:
            reading.lock = max((step.lock for step in steps), key=LOCKS.index)
        reading.what = _short(text_of(rest, plain=True), 70)
        reading.alter = text_of(rest)
        reading.foreign_key = _adds_foreign_key(rest) and self.foreign_key_checks
        return reading

    def _clause(
        self,
        table: str,
        clause: list[Token],
        operation: OperationInfo | None,
        reading: Plan,
    ) -> Step | None:
        kinds = keywords(clause)
        first = kinds[0]
        if first in ("ALGORITHM", "LOCK"):
            reading.notes.append(f"the statement asks for {text_of(clause)} itself")
            return None
        if first == "ADD":
            return self._add(table, clause[1:], reading)
        if first == "DROP":
            return self._drop(table, clause[1:], reading)
        if first in ("MODIFY", "CHANGE"):
            return self._modify(table, clause, operation, reading)
        if first == "ALTER":
            # ALTER [COLUMN] c SET DEFAULT / DROP DEFAULT / SET [IN]VISIBLE; ALTER INDEX ...
            return INSTANT
        if first == "RENAME":
            return self._rename(table, clause, reading)
        if first in ("ENGINE", "FORCE", "ROW_FORMAT", "KEY_BLOCK_SIZE"):
            return Step("INPLACE", rebuild=True)
        if first == "CONVERT":
            return Step("COPY")
        if first in ("COMMENT", "AUTO_INCREMENT") or (
            first in ("DEFAULT", "CHARACTER", "CHARSET", "COLLATE")
        ):
            return INSTANT
        reading.hit("MR-UNRECOGNISED", statement=_short(text_of(clause)))
        reading.notes.append(f"`{_short(text_of(clause))}`: not recognised, a copy assumed")
        return Step("COPY")

    def _add(self, table: str, rest: list[Token], reading: Plan) -> Step:
        kinds = keywords(rest)
        if kinds[0] == "CONSTRAINT":
            rest, kinds = rest[2:], kinds[2:]
        head = kinds[0] if kinds else ""
        if head == "PRIMARY":
            return Step("INPLACE", rebuild=True, scan=True)
        if head in ("UNIQUE", "INDEX", "KEY"):
            return Step("NOCOPY", scan=True)
        if head in ("FULLTEXT",):
            return Step("INPLACE", lock="SHARED", rebuild=True, scan=True)
        if head in ("SPATIAL",):
            return Step("NOCOPY", lock="SHARED", scan=True)
        if head == "FOREIGN":
            if self.foreign_key_checks:
                return Step("COPY")
            reading.notes.append(
                "foreign_key_checks=0: the constraint is added without checking the rows "
                "(INSTANT when the column already has an index)"
            )
            return Step("NOCOPY", scan=True)
        if head == "CHECK":
            return Step("COPY")
        if head == "COLUMN":
            rest = rest[1:]
        if rest and rest[0].text == "(":
            reading.notes.append("ADD COLUMN (...) of several columns: read as one")
            return Step("INPLACE", rebuild=True)
        column = column_def(rest)
        self._learn(table, column)
        if column.auto_increment:
            return Step("INPLACE", lock="SHARED", rebuild=True, scan=True)
        if column.stored:
            return Step("COPY")
        if column.indexed:
            # The index is built while the table is rebuilt for the column.
            return Step("INPLACE", rebuild=True, scan=True)
        if self._instant_add(column.position):
            return INSTANT_COLUMN
        return Step("INPLACE", rebuild=True)

    def _instant_add(self, position: bool) -> bool:
        if self.server.mariadb:
            return self.server.instant and (not position or self.server.at_least(10, 4))
        return self.server.instant and (not position or self.server.at_least(8, 0, 29))

    def _drop(self, table: str, rest: list[Token], reading: Plan) -> Step:
        kinds = keywords(rest)
        head = kinds[0] if kinds else ""
        if head in ("INDEX", "KEY"):
            return Step("NOCOPY")
        if head == "PRIMARY":
            return Step("INPLACE", rebuild=True) if self.new_primary_key else Step("COPY")
        if head == "FOREIGN":
            return INSTANT if self.server.mariadb else METADATA
        if head in ("CONSTRAINT", "CHECK"):
            return INSTANT if self.server.mariadb else METADATA
        if head == "PARTITION":
            return Step("INPLACE")
        column = next(t.name for t in rest if t.word not in ("COLUMN", "IF", "EXISTS"))
        reading.hit("MR-DROP-COLUMN", table=table, column=column)
        known = self.schema.tables.get(table)
        if known:
            known.columns.pop(column, None)
        instant = (
            self.server.at_least(10, 4) if self.server.mariadb else self.server.at_least(8, 0, 29)
        )
        return INSTANT_COLUMN if instant else Step("INPLACE", rebuild=True)

    def _rename(self, table: str, clause: list[Token], reading: Plan) -> Step:
        kinds = keywords(clause)
        if kinds[1:2] in (["INDEX"], ["KEY"]):
            return INSTANT if self.server.mariadb else METADATA
        if kinds[1:2] == ["COLUMN"]:
            old, new = clause[2].name, clause[4].name
            reading.hit("MR-RENAME-COLUMN", table=table, column=old)
            self._rename_column(table, old, new)
            return self._instant_rename()
        new_name = clause[-1].name
        reading.hit("MR-RENAME-TABLE", table=table)
        self._rename_known_table(table, new_name)
        return INSTANT

    def _instant_rename(self) -> Step:
        if self.server.mariadb or self.server.at_least(8, 0, 28):
            return INSTANT
        return METADATA

    def _modify(
        self,
        table: str,
        clause: list[Token],
        operation: OperationInfo | None,
        reading: Plan,
    ) -> Step:
        rest = clause[1:]
        if rest and rest[0].word == "COLUMN":
            rest = rest[1:]
        old_name = rest[0].name
        if keywords(clause)[0] == "CHANGE":
            rest = rest[1:]
        new = column_def(rest)
        old = self._old_column(table, old_name, operation)
        if new.name != old_name:
            reading.hit("MR-RENAME-COLUMN", table=table, column=old_name)
            self._rename_column(table, old_name, new.name)
        self._learn(table, new)
        if old is None:
            reading.notes.append(
                f"the previous definition of `{table}`.`{old_name}` is unknown: a type change "
                "(a copy) is assumed"
            )
            return Step("COPY")
        step = self._column_change(old, new, reading, table)
        return self._instant_rename() if new.name != old_name and step == INSTANT else step

    def _column_change(self, old: ColumnDef, new: ColumnDef, reading: Plan, table: str) -> Step:
        null_changes = old.not_null != new.not_null
        if new.auto_increment and not old.auto_increment:
            return Step("COPY")
        if (new.charset and new.charset != (old.charset or "utf8mb4")) or (
            new.collation and new.collation != old.collation
        ):
            return Step("COPY")
        if old.type == new.type:
            type_step = None
        else:
            type_step = self._type_change(old, new)
            if type_step.algorithm == "COPY":
                values = {"table": table, "column": new.name, "old_type": old.type}
                reading.notes.append(
                    "`{column}` changes from {old_type} to {new_type}: the rows are converted "
                    "in a copy of the table".format(**values, new_type=new.type)
                )
                return type_step
        if null_changes:
            if new.not_null:
                reading.notes.append("NOT NULL: the rebuild checks every row for NULL")
            return Step("INPLACE", rebuild=True, scan=new.not_null)
        if new.position and not self.server.mariadb:
            return Step("INPLACE", rebuild=True)
        if new.position:
            return INSTANT_COLUMN if self.server.at_least(10, 4) else Step("INPLACE", rebuild=True)
        return type_step or INSTANT

    def _type_change(self, old: ColumnDef, new: ColumnDef) -> Step:
        old_chars, new_chars = old.chars, new.chars
        if old_chars is not None and new_chars is not None:
            return self._varchar(old_chars * old.bytes_per_char, new_chars * new.bytes_per_char)
        old_base, new_base = old.type.split("(")[0], new.type.split("(")[0]
        if old_base == new_base and old_base in ("enum", "set"):
            old_values, new_values = _members(old.type), _members(new.type)
            appended = new_values[: len(old_values)] == old_values
            same_storage = _member_bytes(old_base, old_values) == _member_bytes(
                new_base, new_values
            )
            if appended and same_storage:
                return INSTANT
        return Step("COPY")

    def _varchar(self, old_bytes: int, new_bytes: int) -> Step:
        """A longer VARCHAR keeps its rows while its length prefix (1 byte up to 255 bytes,
        else 2) stays; MariaDB 10.4.3 also extends in place a column of up to 127 bytes."""
        if new_bytes < old_bytes:
            return Step("COPY")
        same_prefix = (old_bytes <= 255) == (new_bytes <= 255)
        if self.server.mariadb and self.server.at_least(10, 4, 3):
            return INSTANT if same_prefix or old_bytes <= 127 else Step("COPY")
        if same_prefix:
            return INSTANT if self.server.mariadb and self.server.instant else METADATA
        return Step("COPY")

    def _old_column(
        self, table: str, name: str, operation: OperationInfo | None
    ) -> ColumnDef | None:
        """The column before the statement: from the migration's operation, else learnt."""
        if (
            operation is not None
            and operation.old_field is not None
            and operation.table
            in (
                None,
                table,
            )
        ):
            field_name = operation.field_name or ""
            if name in (field_name, f"{field_name}_id"):
                return column_of(operation.old_field.db_type, operation.old_field.null, name)
        known = self.schema.column(table, name)
        if known is None or known.type is None:
            return None
        return ColumnDef(name=name, type=known.type.name, not_null=known.not_null)

    # -- other statements ------------------------------------------------------------------

    def _create_index(self, items: list[Token]) -> Plan:
        kinds = keywords(items)
        on = kinds.index("ON")
        table = items[on + 1].name
        reading = Plan("index", table=table, new_table=self.schema.is_new(table))
        reading.what = " ".join(kinds[: kinds.index("INDEX") + 1])
        if "FULLTEXT" in kinds[:3]:
            step = Step("INPLACE", lock="SHARED", rebuild=True, scan=True)
        elif "SPATIAL" in kinds[:3]:
            step = Step("NOCOPY", lock="SHARED", scan=True)
        else:
            step = Step("NOCOPY", scan=True)
        self._apply(reading, step)
        return reading

    def _drop_index(self, items: list[Token]) -> Plan:
        table = items[keywords(items).index("ON") + 1].name
        reading = Plan("index", table=table, new_table=self.schema.is_new(table), what="DROP INDEX")
        self._apply(reading, Step("NOCOPY"))
        return reading

    def _apply(self, reading: Plan, step: Step) -> None:
        reading.algorithm = self.server.algorithm(step.algorithm)
        reading.lock = None if reading.algorithm == "INSTANT" else step.lock
        reading.rebuild, reading.scan = step.rebuild, step.scan or step.rebuild

    def _create_table(self, items: list[Token]) -> Plan:
        kinds = keywords(items)
        at = kinds.index("TABLE") + 1
        while kinds[at] in ("IF", "NOT", "EXISTS"):
            at += 1
        table = items[at].name
        self.schema.created.add(table)
        known = self.schema.tables.setdefault(table, Table(table))
        body = items[at + 1 :]
        if body and body[0].text == "(":
            for clause in split_clauses(body[1:-1]):
                if clause[0].word not in (
                    "PRIMARY",
                    "UNIQUE",
                    "KEY",
                    "INDEX",
                    "CONSTRAINT",
                    "FOREIGN",
                    "CHECK",
                    "FULLTEXT",
                    "SPATIAL",
                ):
                    column = column_def(clause)
                    known.columns[column.name] = _schema_column(column)
        return Plan("create", table=table, new_table=True)

    def _drop_table(self, items: list[Token]) -> Plan:
        kinds = keywords(items)
        at = 2 + (2 if kinds[2:4] == ["IF", "EXISTS"] else 0)
        table = items[at].name
        new = self.schema.is_new(table)
        reading = Plan("drop", table=table, algorithm="INSTANT", new_table=new)
        if not new:
            reading.hit("MR-DROP-TABLE", table=table)
        self.schema.tables.pop(table, None)
        return reading

    def _rename_table(self, old: str, new: str) -> Plan:
        reading = Plan("rename", table=old, algorithm="INSTANT", new_table=self.schema.is_new(old))
        if not reading.new_table:
            reading.hit("MR-RENAME-TABLE", table=old)
        self._rename_known_table(old, new)
        return reading

    def _dml(self, items: list[Token], sql: str) -> Plan:
        kinds = keywords(items)
        if kinds[0] == "UPDATE":
            table = items[1].name
        else:
            keyword = "INTO" if "INTO" in kinds else "FROM"
            table = items[kinds.index(keyword) + 1].name if keyword in kinds else ""
        new = self.schema.is_new(table)
        reading = Plan("dml", table=table or None, dml=not new, new_table=new)
        if new:
            return reading
        if kinds[0] in ("UPDATE", "DELETE") and "WHERE" not in kinds:
            reading.hit("MR-DML-UNBOUNDED", table=table, statement=_short(sql))
        else:
            reading.hit("MR-DML", table=table, statement=_short(sql))
        return reading

    # -- the schema model ------------------------------------------------------------------

    def _learn(self, table: str, column: ColumnDef) -> None:
        known = self.schema.tables.setdefault(table, Table(table))
        known.columns[column.name] = _schema_column(column)

    def _rename_column(self, table: str, old: str, new: str) -> None:
        known = self.schema.tables.get(table)
        if known and old in known.columns:
            column = known.columns.pop(old)
            column.name = new
            known.columns[new] = column

    def _rename_known_table(self, old: str, new: str) -> None:
        if old in self.schema.tables:
            self.schema.tables[new] = self.schema.tables.pop(old)
            self.schema.tables[new].name = new
        if old in self.schema.created:
            self.schema.created.add(new)
        else:
            self.schema.aliases[new] = old


def _schema_column(column: ColumnDef) -> Column:
    """The schema model keeps MySQL's type text as the type's name."""
    return Column(column.name, SqlType(column.type), column.not_null)


def _members(type_text: str) -> list[str]:
    return re.findall(r"'((?:[^']|'')*)'", type_text)


def _member_bytes(base: str, members: list[str]) -> int:
    """Storage of an ENUM (1 or 2 bytes) or SET (1, 2, 3, 4 or 8 bytes) value."""
    if base == "enum":
        return 1 if len(members) <= 255 else 2
    return next(size for size in (1, 2, 3, 4, 8) if len(members) <= size * 8)


def _adds_foreign_key(rest: list[Token]) -> bool:
    return _follows(keywords(rest), "FOREIGN", "KEY")


def _follows(kinds: list[str], first: str, second: str) -> bool:
    return any(pair == (first, second) for pair in pairwise(kinds))


def _short(sql: str, width: int = 80) -> str:
    flat = " ".join(sql.split()).rstrip(";")
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# -- verdicts --------------------------------------------------------------------------------


def effect_blocks(reading: Plan) -> tuple[list[Lock], Blocks, bool]:
    """The locks on a pre-existing table, what is blocked while the work runs, and the work."""
    work = reading.rebuild or reading.scan or reading.dml
    if reading.table is None or reading.new_table or reading.algorithm is None:
        return [], "none", work
    locks = []
    if reading.lock is not None:
        locks.append(
            Lock(relation=reading.table, mode=reading.lock, blocks=LOCK_BLOCKS[reading.lock])
        )
    locks.append(Lock(relation=reading.table, mode=METADATA_LOCK, blocks="reads"))
    if work and reading.lock is not None:
        return locks, LOCK_BLOCKS[reading.lock], work
    return locks, "reads", work


def algorithm_hits(reading: Plan) -> list[Hit]:
    """The rule the algorithm and lock call for: static and probed readings alike."""
    if reading.kind not in ("alter", "index") or reading.new_table or reading.table is None:
        return []
    values = {
        "table": reading.table,
        "operation": reading.what,
        "alter": reading.alter,
        "algorithm": reading.algorithm or "",
        "lock": reading.lock or "NONE",
    }
    if reading.algorithm == "COPY":
        rule = "MR-MYSQL-ADD-FOREIGN-KEY" if reading.foreign_key else "MR-MYSQL-COPY-ALTER"
        return [Hit(rule, values)]
    if reading.lock in ("SHARED", "EXCLUSIVE"):
        return [Hit("MR-MYSQL-LOCKING-ALTER", values)]
    if reading.rebuild:
        return [Hit("MR-MYSQL-REBUILD", values)]
    return []


def _view(plan: Plan, sql: str) -> View:
    locks, blocked, work = effect_blocks(plan)
    counted = bool(locks) or plan.dml
    lock_risk = rate(blocked, rewrite=plan.rebuild, work=work) if counted else Risk.safe
    notes = list(plan.notes)
    if plan.algorithm is not None and plan.table and not plan.new_table:
        lock = f", LOCK={plan.lock}" if plan.lock else ""
        notes.insert(0, f"ALGORITHM={plan.algorithm}{lock}")
    rewrite, scan = plan.rebuild and not plan.new_table, plan.scan and not plan.new_table
    return View(
        locks=locks,
        blocks=blocked if counted else "none",
        rewrite=rewrite,
        scan=scan,
        locks_risk=lock_risk,
        hits=plan.rule_hits(),
        notes=notes,
        work=verb_work(sql, locks, rewrite=rewrite, scan=scan),
    )


def traced_plan(static: Plan, trace: Trace, server: Server) -> Plan:
    """The reading the probe gives: its algorithm and lock replace the static ones.

    A refused NOCOPY proves a MariaDB rebuild; MySQL has no NOCOPY, so whether its INPLACE
    rebuilds stays the static reading's, as does what a NOCOPY operation reads.
    """
    algorithm = trace.algorithm or static.algorithm
    lock = trace.locks[0].mode if trace.locks else None
    created = trace.locks[0].created if trace.locks else static.new_table
    if algorithm == "COPY":
        rebuild, scan = True, True
    elif algorithm == "INSTANT":
        rebuild, scan = False, False
    elif algorithm == "INPLACE" and server.mariadb and server.instant:
        rebuild, scan = True, True
    elif algorithm == "NOCOPY":
        rebuild, scan = False, static.scan
    else:
        rebuild, scan = static.rebuild, static.scan
    reading = replace(
        static,
        algorithm=algorithm,
        lock=lock,
        rebuild=rebuild,
        scan=scan,
        new_table=created,
        hits=list(static.hits),
        notes=list(static.notes),
    )
    return reading


def disagreements(static: Plan, traced: Plan) -> list[str]:
    found = []
    if static.algorithm != traced.algorithm:
        found.append(f"ALGORITHM: static {static.algorithm}, probe {traced.algorithm}")
    if static.lock != traced.lock and "INSTANT" not in (static.algorithm, traced.algorithm):
        found.append(f"LOCK: static {static.lock}, probe {traced.lock}")
    if static.rebuild != traced.rebuild:
        found.append(
            f"rebuild: static {'yes' if static.rebuild else 'no'}, "
            f"probe {'yes' if traced.rebuild else 'no'}"
        )
    return found
