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

from bot.classify.mysql import Token, tokens, words
from bot.classify.risk import rate
from bot.classify.rules import RULES
from bot.classify.schema import Schema
from bot.models import Lock, Risk, Verdict

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
class Reading:
    kind: str
    """create, remake, alter, index, drop, rename, dml, session, query or other."""
    table: str | None = None
    writes: bool = False
    rewrite: bool = False
    scan: bool = False
    dml: bool = False
    new_table: bool = False
    hits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def hit(self, rule: str, **values: str) -> None:
        self.hits.append((rule, values))

    def rule_hits(self) -> list[tuple[str, dict[str, str]]]:
        return self.hits


class Analyzer:
    """Reads statements in order: a remake spans four of them, indexes follow it."""

    def __init__(self, schema: Schema | None = None) -> None:
        self.schema = schema if schema is not None else Schema()
        self.remaking: dict[str, str] = {}
        """new__t -> t, from its CREATE TABLE to its RENAME."""
        self.reindexing: str | None = None
        """The table just remade, while the statements after its RENAME build its indexes."""

    def read(self, sql: str, operation: object = None) -> Reading:
        items = tokens(sql)
        kinds = words(items)
        if not (kinds[:1] == ["CREATE"] and "INDEX" in kinds[:3]):
            self.reindexing = None
        if not items:
            return Reading("other")
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
            return self._write(Reading("index", table=table))
        if kinds[:2] == ["DROP", "TABLE"]:
            return self._drop_table(_name_after(items, "TABLE"))
        if kinds[0] in ("INSERT", "UPDATE", "DELETE", "REPLACE"):
            return self._dml(items, kinds, sql)
        if kinds[0] in ("PRAGMA", "SELECT", "BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"):
            return Reading("session")
        reading = Reading("other")
        reading.hit("MR-UNRECOGNISED", statement=" ".join(sql.split())[:80])
        return reading

    def _write(self, reading: Reading) -> Reading:
        reading.writes = True
        reading.new_table = reading.table in self.schema.created
        return reading

    def _create_table(self, table: str) -> Reading:
        if table.startswith(REMAKE_PREFIX):
            self.remaking[table] = table.removeprefix(REMAKE_PREFIX)
        self.schema.created.add(table)
        return Reading("create", table=table, writes=True, new_table=True)

    def _alter(self, table: str, rest: list[Token]) -> Reading:
        kinds = words(rest)
        if kinds[:2] == ["RENAME", "TO"] or (kinds[:1] == ["RENAME"] and len(rest) == 2):
            new_name = rest[-1].name
            if self.remaking.pop(table, None) == new_name:
                self.reindexing = new_name
                self.schema.created.discard(table)
                return self._write(Reading("remake", table=new_name))
            reading = self._write(Reading("rename", table=table))
            if not reading.new_table:
                reading.hit("MR-RENAME-TABLE", table=table)
            return reading
        reading = self._write(Reading("alter", table=table))
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

    def _index(self, table: str) -> Reading:
        reading = self._write(Reading("index", table=table, scan=True))
        if table == self.reindexing:
            reading.notes.append(f"rebuilds an index of `{table}`, part of remaking it")
        elif not reading.new_table:
            reading.hit("MR-SQLITE-INDEX", table=table)
        return reading

    def _drop_table(self, table: str) -> Reading:
        if table in self.remaking.values():
            return self._write(Reading("remake", table=table))
        reading = self._write(Reading("drop", table=table))
        if not reading.new_table:
            reading.hit("MR-DROP-TABLE", table=table)
        return reading

    def _dml(self, items: list[Token], kinds: list[str], sql: str) -> Reading:
        table = items[1].name if kinds[0] == "UPDATE" else _name_after(items, "INTO", "FROM")
        source = self.remaking.get(table)
        if source is not None:
            reading = self._write(Reading("remake", table=source, rewrite=True, scan=True))
            reading.new_table = source in self.schema.created
            if not reading.new_table:
                how = f'Django remakes it: "{table}", copy, drop, rename'
                reading.hit("MR-SQLITE-REWRITE", table=source, how=how)
            return reading
        selects = "SELECT" in kinds
        reading = self._write(Reading("dml", table=table))
        reading.dml = not reading.new_table and (kinds[0] != "INSERT" or selects)
        if reading.new_table:
            return reading
        statement = " ".join(sql.split())[:80]
        if kinds[0] in ("UPDATE", "DELETE") and "WHERE" not in kinds:
            reading.hit("MR-DML-UNBOUNDED", table=table, statement=statement)
        else:
            reading.hit("MR-DML", table=table, statement=statement)
        return reading


def _name_after(items: list[Token], *keywords: str) -> str:
    kinds = words(items)
    for keyword in keywords:
        if keyword in kinds:
            at = kinds.index(keyword) + 1
            while at < len(items) - 1 and items[at].word in ("IF", "NOT", "EXISTS"):
                at += 1
            return items[at].name
    return ""


def verdict(reading: Reading, source: str) -> Verdict:
    """The write lock on a pre-existing table, crossed with the work done under it."""
    work = reading.rewrite or reading.scan or reading.dml
    locked = reading.writes and not reading.new_table and reading.table is not None
    locks = [Lock(relation=reading.table, mode=WRITE_LOCK, blocks="writes")] if locked else []
    lock_risk = rate("writes", rewrite=reading.rewrite, work=work) if locked else Risk.safe
    ids, hazards = [], []
    for rule_id, _ in reading.hits:
        rule = RULES[rule_id]
        if rule.family != "lock":
            hazards.append(rule.risk)
        if rule.family != "lock" or lock_risk > Risk.safe:
            ids.append(rule_id)
    notes = [*reading.notes, JOURNAL_NOTE] if locked and work else list(reading.notes)
    return Verdict(
        source=source,  # type: ignore[arg-type]
        locks=locks,
        blocks="writes" if locked else "none",
        rewrite=reading.rewrite and locked,
        scan=reading.scan and locked,
        risk=Risk.worst([lock_risk, *hazards]),
        rules=sorted(set(ids)),
        notes=notes,
    )
