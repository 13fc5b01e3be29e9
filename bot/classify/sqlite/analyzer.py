"""SQLite: which statements rewrite a table, under the one lock SQLite has.

SQLite has no table locks: a writing transaction holds the database's write lock from its first
write until COMMIT, so while a migration changes one table no other connection can write to any
table. In WAL mode readers go on; in the default rollback-journal mode they also wait once the
change outgrows the page cache, and while it commits.

Django's schema editor changes most columns by remaking the table: CREATE TABLE "new__t", INSERT
INTO "new__t" SELECT ... FROM "t", DROP TABLE "t", ALTER TABLE "new__t" RENAME TO "t", then the
indexes again. The copy is what takes time, so the INSERT carries the rewrite; ADD COLUMN and
RENAME COLUMN only change the schema, DROP COLUMN rewrites every row in place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.classify.risk import Hit, Reading, View, rate
from bot.classify.schema import Schema
from bot.classify.sql import Token, keywords, tokens, verb_work
from bot.models import Lock, OperationInfo, Risk, Trace

WRITE_LOCK = "DATABASE-WRITE"
"""The database's write lock, reported on the table the statement changes."""
REMAKE_PREFIX = "new__"
JOURNAL_NOTE = (
    "SQLite holds its database-wide write lock until COMMIT (the end of an atomic migration): "
    "no other connection writes meanwhile; reads go on in WAL mode, and in the default "
    "rollback-journal mode also wait once the change outgrows the page cache and while it "
    "commits"
)


@dataclass
class Write:
    """What a statement does under the database's write lock."""

    kind: str
    """create, remake, alter, index, drop, rename, dml, session, query or other."""
    table: str | None = None
    writes: bool = False
    rewrite: bool = False
    scan: bool = False
    dml: bool = False
    new_table: bool = False
    hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def hit(self, rule: str, **values: str) -> None:
        self.hits.append(Hit(rule, values))


class Analyzer:
    """Reads statements in order: a remake spans four of them, indexes follow it."""

    def __init__(self, schema: Schema | None = None) -> None:
        self.schema = schema if schema is not None else Schema()
        self.held: dict[str, str] = {}
        """The one lock SQLite has is the database's: nothing per table is held."""
        self.remaking: dict[str, str] = {}
        """new__t -> t, from its CREATE TABLE to its RENAME."""
        self.reindexing: str | None = None
        """The table just remade, while the statements after its RENAME build its indexes."""

    def read(
        self, sql: str, operation: OperationInfo | None = None, trace: Trace | None = None
    ) -> Reading:
        """The statement's static view: SQLite has nothing to trace."""
        write = self._read(sql)
        return Reading(static=_view(write, sql), ddl=write.kind not in ("dml", "session", "query"))

    def _read(self, sql: str) -> Write:
        items = tokens(sql)
        kinds = keywords(items)
        if not (kinds[:1] == ["CREATE"] and "INDEX" in kinds[:3]):
            self.reindexing = None
        if not items:
            return Write("other")
        if kinds[:2] == ["CREATE", "TABLE"]:
            return self._create_table(_name_after(items, "TABLE"))
        if kinds[:2] == ["ALTER", "TABLE"]:
            return self._alter(items[2].name, items[3:])
        if kinds[0] == "CREATE" and "INDEX" in kinds[:3]:
            table = items[kinds.index("ON") + 1].name
            self.schema.indexes[_name_after(items, "INDEX")] = table
            return self._index(table)
        if kinds[:2] == ["DROP", "INDEX"]:
            name = _name_after(items, "INDEX")
            table = self.schema.indexes.pop(name, name)
            return self._write(Write("index", table=table))
        if kinds[:2] == ["DROP", "TABLE"]:
            return self._drop_table(_name_after(items, "TABLE"))
        if kinds[0] in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            return self._dml(items, kinds, sql)
        if kinds[0] in ("PRAGMA", "SELECT", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"):
            return Write("session")
        reading = Write("other")
        reading.hit("MR-UNRECOGNISED", statement=" ".join(sql.split())[:80])
        return reading

    def _write(self, reading: Write) -> Write:
        reading.writes = True
        reading.new_table = reading.table in self.schema.created
        return reading

    def _create_table(self, table: str) -> Write:
        if table.startswith(REMAKE_PREFIX):
            self.remaking[table] = table.removeprefix(REMAKE_PREFIX)
        self.schema.created.add(table)
        return Write("create", table=table, writes=True, new_table=True)

    def _alter(self, table: str, rest: list[Token]) -> Write:
        kinds = keywords(rest)
        if kinds[:2] == ["RENAME", "TO"] or (kinds[:1] == ["RENAME"] and len(rest) == 2):
            new_name = rest[-1].name
            if self.remaking.pop(table, None) == new_name:
                self.reindexing = new_name
                self.schema.created.discard(table)
                return self._write(Write("remake", table=new_name))
            reading = self._write(Write("rename", table=table))
            if not reading.new_table:
                reading.hit("MR-RENAME-TABLE", table=table)
            return reading
        reading = self._write(Write("alter", table=table))
        if kinds[:1] == ["RENAME"]:
            column = rest[2].name if kinds[1:2] == ["COLUMN"] else rest[1].name
            if not reading.new_table:
                reading.hit("MR-RENAME-COLUMN", table=table, column=column)
        elif kinds[:1] == ["DROP"]:
            column = rest[2].name if kinds[1:2] == ["COLUMN"] else rest[1].name
            reading.rewrite = reading.scan = True
            if not reading.new_table:
                reading.hit("MR-DROP-COLUMN", table=table, column=column)
                reading.hit("MR-SQLITE-REWRITE", table=table, how="DROP COLUMN rewrites each row")
        return reading

    def _index(self, table: str) -> Write:
        reading = self._write(Write("index", table=table, scan=True))
        if table == self.reindexing:
            reading.notes.append(f"rebuilds an index of `{table}`, part of remaking it")
        elif not reading.new_table:
            reading.hit("MR-SQLITE-INDEX", table=table)
        return reading

    def _drop_table(self, table: str) -> Write:
        if table in self.remaking.values():
            return self._write(Write("remake", table=table))
        reading = self._write(Write("drop", table=table))
        if not reading.new_table:
            reading.hit("MR-DROP-TABLE", table=table)
        return reading

    def _dml(self, items: list[Token], kinds: list[str], sql: str) -> Write:
        table = items[1].name if kinds[0] == "UPDATE" else _name_after(items, "INTO", "FROM")
        source = self.remaking.get(table)
        if source is not None:
            reading = self._write(Write("remake", table=source, rewrite=True, scan=True))
            reading.new_table = source in self.schema.created
            if not reading.new_table:
                how = f'Django remakes it: "{table}", copy, drop, rename'
                reading.hit("MR-SQLITE-REWRITE", table=source, how=how)
            return reading
        selects = "SELECT" in kinds
        reading = self._write(Write("dml", table=table))
        reading.dml = not reading.new_table and (kinds[0] != "INSERT" or selects)
        if reading.new_table:
            return reading
        statement = " ".join(sql.split())[:80]
        if kinds[0] in ("UPDATE", "DELETE") and "WHERE" not in kinds:
            reading.hit("MR-DML-UNBOUNDED", table=table, statement=statement)
        else:
            reading.hit("MR-DML", table=table, statement=statement)
        return reading


def _name_after(items: list[Token], *after: str) -> str:
    kinds = keywords(items)
    for keyword in after:
        if keyword in kinds:
            at = kinds.index(keyword) + 1
            while at < len(items) - 1 and items[at].word in ("IF", "NOT", "EXISTS"):
                at += 1
            return items[at].name
    return ""


def _view(write: Write, sql: str) -> View:
    """The write lock on a pre-existing table, crossed with the work done under it."""
    work = write.rewrite or write.scan or write.dml
    locked = write.writes and not write.new_table and write.table is not None
    locks = [Lock(relation=write.table, mode=WRITE_LOCK, blocks="writes")] if locked else []
    rewrite, scan = write.rewrite and locked, write.scan and locked
    return View(
        locks=locks,
        blocks="writes" if locked else "none",
        rewrite=rewrite,
        scan=scan,
        locks_risk=rate("writes", rewrite=write.rewrite, work=work) if locked else Risk.safe,
        hits=write.hits,
        notes=[*write.notes, JOURNAL_NOTE] if locked and work else list(write.notes),
        work=verb_work(sql, locks, rewrite=rewrite, scan=scan),
    )
