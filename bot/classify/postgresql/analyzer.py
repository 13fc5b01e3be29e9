"""Static analysis of PostgreSQL statements: the locks each takes, whether it rewrites or scans a
table, and which rules it hits.

pglast gives the statement exactly as the server parses it; this module walks that tree the way
the server's own code decides its locks (``AlterTableGetLockLevel`` in tablecmds.c, the
"Table-Level Lock Modes" page of the manual), version-gated by the server major version. Facts
were checked against real traces (tests/corpus): where the two disagree, the trace is right and
this module is fixed.

Only relations that existed before the statements under review count: a relation created
earlier in the same migration or input is "new", and locking it hurts nobody.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pglast import ast
from pglast.enums import (
    AlterTableType,
    ConstrType,
    DropBehavior,
    NullTestType,
    ObjectType,
    ReindexObjectType,
    TransactionStmtKind,
    VariableSetKind,
)
from pglast.stream import RawStream

from bot.classify import locks as lk
from bot.classify.postgresql import traced
from bot.classify.postgresql.work import work
from bot.classify.risk import Effect, Hit, Reading, View, assess, effect_locks
from bot.classify.schema import (
    SERIAL_TYPES,
    Column,
    Constraint,
    Schema,
    SqlType,
    Table,
    change_rewrites,
)
from bot.classify.sql import Parsed, short, split
from bot.models import OperationInfo, Trace

Kind = Literal["ddl", "dml", "query", "session", "transaction", "other"]

_AE, _SRE, _SHARE, _SUE = (
    lk.ACCESS_EXCLUSIVE,
    lk.SHARE_ROW_EXCLUSIVE,
    lk.SHARE,
    lk.SHARE_UPDATE_EXCLUSIVE,
)

# ALTER TABLE subcommands and their lock (AlterTableGetLockLevel). Subcommands that need more
# than a lock lookup have their own method below; anything missing is "needs review".
_AT_LOCKS: dict[AlterTableType, str] = {
    AlterTableType.AT_ColumnDefault: _AE,
    AlterTableType.AT_CookedColumnDefault: _AE,
    AlterTableType.AT_DropNotNull: _AE,
    AlterTableType.AT_DropExpression: _AE,
    AlterTableType.AT_SetStatistics: _SUE,
    AlterTableType.AT_SetOptions: _SUE,
    AlterTableType.AT_ResetOptions: _SUE,
    AlterTableType.AT_SetStorage: _AE,
    AlterTableType.AT_SetCompression: _AE,
    AlterTableType.AT_AlterConstraint: _AE,
    AlterTableType.AT_ClusterOn: _SUE,
    AlterTableType.AT_DropCluster: _SUE,
    AlterTableType.AT_ChangeOwner: _AE,
    AlterTableType.AT_EnableTrig: _SRE,
    AlterTableType.AT_EnableAlwaysTrig: _SRE,
    AlterTableType.AT_EnableReplicaTrig: _SRE,
    AlterTableType.AT_EnableTrigAll: _SRE,
    AlterTableType.AT_EnableTrigUser: _SRE,
    AlterTableType.AT_DisableTrig: _SRE,
    AlterTableType.AT_DisableTrigAll: _SRE,
    AlterTableType.AT_DisableTrigUser: _SRE,
    AlterTableType.AT_EnableRule: _AE,
    AlterTableType.AT_EnableAlwaysRule: _AE,
    AlterTableType.AT_EnableReplicaRule: _AE,
    AlterTableType.AT_DisableRule: _AE,
    AlterTableType.AT_EnableRowSecurity: _AE,
    AlterTableType.AT_DisableRowSecurity: _AE,
    AlterTableType.AT_ForceRowSecurity: _AE,
    AlterTableType.AT_NoForceRowSecurity: _AE,
    AlterTableType.AT_ReplicaIdentity: _AE,
    AlterTableType.AT_AddIdentity: _AE,
    AlterTableType.AT_SetIdentity: _AE,
    AlterTableType.AT_DropIdentity: _AE,
    AlterTableType.AT_AddInherit: _AE,
    AlterTableType.AT_DropInherit: _AE,
    AlterTableType.AT_AddOf: _AE,
    AlterTableType.AT_DropOf: _AE,
    AlterTableType.AT_GenericOptions: _AE,
    AlterTableType.AT_AlterColumnGenericOptions: _AE,
    AlterTableType.AT_DetachPartitionFinalize: _SUE,
}

# Subcommands that act on the named table only, never on its partitions.
_NO_RECURSION = frozenset(
    {
        AlterTableType.AT_AttachPartition,
        AlterTableType.AT_DetachPartition,
        AlterTableType.AT_DetachPartitionFinalize,
    }
)

_AT_REWRITES = frozenset(
    {
        AlterTableType.AT_SetTableSpace,
        AlterTableType.AT_SetLogged,
        AlterTableType.AT_SetUnLogged,
        AlterTableType.AT_SetAccessMethod,
    }
)

# Relation options whose change only needs SHARE UPDATE EXCLUSIVE (reloptions.c lockmode).
_LIGHT_RELOPTIONS = frozenset(
    {
        "fillfactor",
        "parallel_workers",
        "toast_tuple_target",
        "vacuum_index_cleanup",
        "vacuum_truncate",
        "log_autovacuum_min_duration",
        "user_catalog_table",
    }
)

_VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "random_normal",
        "gen_random_uuid",
        "uuidv4",
        "uuidv7",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "setval",
        "txid_current",
        "pg_current_xact_id",
    }
)
# Functions known to be stable or immutable: a default using them is evaluated once (PG 11+).
_FAST_FUNCTIONS = frozenset(
    {
        "now",
        "statement_timestamp",
        "transaction_timestamp",
        "current_date",
        "current_timestamp",
        "localtimestamp",
        "lower",
        "upper",
        "concat",
        "length",
        "abs",
        "coalesce",
        "to_jsonb",
        "jsonb_build_object",
        "jsonb_build_array",
        "json_build_object",
        "array",
        "make_date",
        "make_interval",
        "to_timestamp",
        "timezone",
        "date_trunc",
    }
)

_DML = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_SAFE_UTILITY = (
    ast.CreateExtensionStmt,
    ast.AlterExtensionStmt,
    ast.CreateFunctionStmt,
    ast.AlterFunctionStmt,
    ast.DefineStmt,
    ast.CompositeTypeStmt,
    ast.CreateEnumStmt,
    ast.CreateRangeStmt,
    ast.AlterEnumStmt,
    ast.CreateDomainStmt,
    ast.CreateSchemaStmt,
    ast.CreateSeqStmt,
    ast.CreateCastStmt,
    ast.CreateConversionStmt,
    ast.AlterOwnerStmt,
    ast.VariableShowStmt,
)


@dataclass
class Analysis:
    """The static reading of one statement."""

    kind: Kind = "other"
    locks: dict[str, str] = field(default_factory=dict)
    """Pre-existing table-like relation -> strongest lock mode."""
    rewrite: bool = False
    scan: bool = False
    dml: bool = False
    hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recognised: bool = True
    no_transaction: bool = False
    """CONCURRENTLY, VACUUM...: PostgreSQL refuses to run it in a transaction block."""


def relation_name(rv: ast.RangeVar) -> str:
    schema = rv.schemaname
    return rv.relname if not schema or schema == "public" else f"{schema}.{rv.relname}"


def _qualified(names: tuple[Any, ...] | list[Any]) -> str:
    parts = [n.sval for n in names]
    if len(parts) > 1 and parts[0] == "public":
        parts = parts[1:]
    return ".".join(parts)


def deparse(node: ast.Node) -> str:
    return RawStream()(node)


def _walk(node: Any) -> Iterator[ast.Node]:
    """Every node under ``node`` (itself included), depth first."""
    if isinstance(node, ast.Node):
        yield node
        for name in node.__slots__:
            yield from _walk(getattr(node, name, None))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _walk(item)


class Analyzer:
    """Reads statements in order, keeping the schema model, the transaction state and the locks
    held until COMMIT."""

    def __init__(
        self,
        *,
        pg_version: int,
        schema: Schema | None = None,
        in_transaction: bool = False,
        migration: bool = False,
    ) -> None:
        """``migration``: everything created since the start counts as new (Django's unit is the
        migration). Otherwise, as psql runs a file: outside a BEGIN block every statement
        commits on its own, so what it creates exists for the statements after it."""
        self.pg_version = pg_version
        self.schema = schema if schema is not None else Schema()
        self.in_transaction = in_transaction
        self.implicit_transaction = in_transaction
        self.migration = migration
        self.held: dict[str, str] = {}
        self.lock_timeout = False
        self._local_lock_timeout = False
        self._before_transaction: Schema | None = None

    # -- driving -----------------------------------------------------------------------------

    def read(
        self, sql: str, operation: OperationInfo | None = None, trace: Trace | None = None
    ) -> Reading:
        """The statement's static view and, when the collector traced it, its traced view.

        ``sql`` may hold several statements (Django's "SET CONSTRAINTS ... IMMEDIATE; ALTER
        TABLE ..."): they are read in order and make one view.
        """
        parts = split(sql) or [Parsed(sql=sql, line=1)]
        results = [self._static(part, operation) for part in parts]
        result = results[0] if len(results) == 1 else _merge(results)
        nodes = [] if any(p.error for p in parts) else [n for p in parts for n in p.nodes]
        reading = Reading(
            static=_view(result.effect, result.hits, result.notes, nodes),
            ddl=result.kind == "ddl",
            no_transaction=result.no_transaction,
            lock_timeout=result.lock_timeout,
        )
        if trace is not None and trace.method != "static-only":
            effect = traced.effect_of(
                trace, kind=result.kind, static=result.effect, aliases=result.aliases
            )
            notes = list(result.notes)
            if not traced.observed_scan(trace):
                notes.append(
                    "watched from a second session: locks traced, the scan is the static reading"
                )
            reading.traced = _view(effect, result.hits, notes, nodes)
            reading.disagreements = traced.disagreements(
                result.effect, trace, effect, aliases=result.aliases
            )
            reading.lock_timeout = _timeout_set(trace.lock_timeout) or result.lock_timeout
        return reading

    def _static(self, parsed: Parsed, op: OperationInfo | None) -> _Static:
        if parsed.error:
            hits = [Hit("MR-UNRECOGNISED", {"statement": short(parsed.sql)})]
            notes = [f"PostgreSQL's parser rejects it: {parsed.error}"]
            return _Static("other", Effect(held=dict(self.held)), hits, notes, False)
        results = [self._analyze(node, parsed.sql, operation=op) for node in parsed.nodes]
        own: dict[str, str] = {}
        for _, effect in results:
            for name, mode in effect.locks.items():
                lk.merge(own, name, mode)
        combined = Effect(
            locks=own,
            held=results[0][1].held,
            rewrite=any(e.rewrite for _, e in results),
            scan=any(e.scan for _, e in results),
            dml=any(e.dml for _, e in results),
        )
        analyses = [a for a, _ in results]
        return _Static(
            kind=max((a.kind for a in analyses), key=_KIND_RANK.__getitem__),
            effect=combined,
            hits=[h for a in analyses for h in a.hits],
            notes=[n for a in analyses for n in a.notes],
            lock_timeout=self.lock_timeout_set,
            no_transaction=any(a.no_transaction for a in analyses),
            aliases=dict(self.schema.aliases),
        )

    def _analyze(
        self, node: ast.Node, sql: str, *, operation: OperationInfo | None = None
    ) -> tuple[Analysis, Effect]:
        a = Analysis()
        held = dict(self.held)
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is not None:
            handler(node, a, operation)
        elif isinstance(node, _SAFE_UTILITY):
            a.kind = "ddl"
        else:
            a.recognised = False
        if not a.recognised:
            a.hits.append(Hit("MR-UNRECOGNISED", {"statement": short(sql)}))
        if a.no_transaction and self.in_transaction:
            a.hits.append(Hit("MR-CONCURRENTLY-IN-TRANSACTION", {"statement": short(sql)}))
        for hit in a.hits:
            hit.values.setdefault("statement", short(sql))
        if self.in_transaction:
            for relation, mode in a.locks.items():
                lk.merge(self.held, relation, mode)
        elif not self.migration:
            self.schema.start_unit()
        effect = Effect(locks=dict(a.locks), held=held, rewrite=a.rewrite, scan=a.scan, dml=a.dml)
        return a, effect

    # -- helpers -----------------------------------------------------------------------------

    def _lock(self, a: Analysis, relation: str, mode: str, *, recurse: bool = True) -> None:
        if self.schema.is_new(relation):
            return
        lk.merge(a.locks, relation, mode)
        table = self.schema.tables.get(relation)
        if recurse and table:
            for part in table.partitions:
                self._lock(a, part, mode)

    def _scan(self, a: Analysis, relation: str) -> None:
        if not self.schema.is_new(relation):
            a.scan = True
            table = self.schema.tables.get(relation)
            if table and table.kind == "partitioned" and not table.partitions:
                a.scan = False

    def _rewrite(self, a: Analysis, relation: str) -> None:
        if not self.schema.is_new(relation):
            a.rewrite = a.scan = True

    def _hit(self, a: Analysis, relation: str, rule: str, **values: str) -> None:
        if not self.schema.is_new(relation):
            a.hits.append(Hit(rule, {"table": relation, **values}))

    def _table(self, name: str) -> Table:
        table = self.schema.tables.get(name)
        if table is None:
            table = Table(name)
            self.schema.add_table(table, created=False)
        return table

    def _reads(self, a: Analysis, node: Any, *, skip: set[str] | None = None) -> None:
        """AccessShareLock on every relation a query reads (CTE names are not relations)."""
        ctes = {c.ctename for c in _walk(node) if isinstance(c, ast.CommonTableExpr)}
        for child in _walk(node):
            if isinstance(child, ast.RangeVar):
                name = relation_name(child)
                if name not in ctes and name not in (skip or set()):
                    self._lock(a, name, lk.ACCESS_SHARE, recurse=False)

    # -- transactions and session ------------------------------------------------------------

    def _TransactionStmt(self, node: ast.TransactionStmt, a: Analysis, op: Any) -> None:
        a.kind = "transaction"
        kind = node.kind
        if kind in (TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START):
            if not self.in_transaction:
                self.in_transaction = True
                self._before_transaction = self.schema.copy()
        elif kind == TransactionStmtKind.TRANS_STMT_COMMIT:
            self._end_transaction()
        elif kind == TransactionStmtKind.TRANS_STMT_ROLLBACK:
            if self._before_transaction is not None:
                self.schema = self._before_transaction
            self._end_transaction()
        else:
            a.notes.append("savepoints are not modelled: locks are taken as if there were none")

    def _end_transaction(self) -> None:
        self.in_transaction = self.implicit_transaction
        self.held.clear()
        if not self.migration:
            self.schema.start_unit()
        self._before_transaction = None
        self._local_lock_timeout = False

    def _VariableSetStmt(self, node: ast.VariableSetStmt, a: Analysis, op: Any) -> None:
        a.kind = "session"
        if node.name != "lock_timeout":
            return
        value = None
        if node.kind == VariableSetKind.VAR_SET_VALUE and node.args:
            const = node.args[0].val
            value = str(getattr(const, "sval", getattr(const, "ival", "")))
        enabled = value not in (None, "0", "0s", "0ms")
        if node.is_local:
            self._local_lock_timeout = enabled
        else:
            self.lock_timeout = enabled

    @property
    def lock_timeout_set(self) -> bool:
        return self.lock_timeout or self._local_lock_timeout

    def _ConstraintsSetStmt(self, node: ast.Node, a: Analysis, op: Any) -> None:
        a.kind = "session"
        a.notes.append(
            "deferred foreign-key checks queued by earlier statements run now, taking ROW SHARE "
            "locks on the referenced tables"
        )

    # -- CREATE ------------------------------------------------------------------------------

    def _CreateStmt(self, node: ast.CreateStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        name = relation_name(node.relation)
        if node.if_not_exists and name in self.schema.tables:
            a.notes.append(f"{name} already exists: nothing happens")
            return
        table = Table(name, kind="partitioned" if node.partspec else "table")
        self.schema.add_table(table, created=True)
        for parent_rv in node.inhRelations or ():
            parent = relation_name(parent_rv)
            self._lock(a, parent, _AE if node.partbound else _SUE, recurse=False)
            if node.partbound:
                self._table(parent).partitions.append(name)
                parent_table = self.schema.tables[parent]
                for column in parent_table.columns.values():
                    table.columns.setdefault(column.name, Column(column.name, column.type))
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                self._column_def(name, element, a, adding=False)
            elif isinstance(element, ast.Constraint):
                self._new_constraint(name, element, a, columns=None)
            elif isinstance(element, ast.TableLikeClause):
                self._lock(a, relation_name(element.relation), lk.ACCESS_SHARE, recurse=False)

    def _CreateTableAsStmt(self, node: ast.CreateTableAsStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        name = relation_name(node.into.rel)
        kind = "matview" if node.objtype == ObjectType.OBJECT_MATVIEW else "table"
        table = Table(name, kind=kind)
        if kind == "matview":
            table.reads = _relations_read(node.query)
        self.schema.add_table(table, created=True)
        before = dict(a.locks)
        self._reads(a, node.query)
        if not node.into.skipData and a.locks != before:
            a.scan = True

    def _ViewStmt(self, node: ast.ViewStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        name = relation_name(node.view)
        if node.replace and name in self.schema.tables:
            self._lock(a, name, _AE, recurse=False)
        else:
            self.schema.add_table(Table(name, kind="view"), created=True)
        self.schema.tables[name].reads = _relations_read(node.query) - {name}
        self._reads(a, node.query, skip={name})

    def _IndexStmt(self, node: ast.IndexStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        table = relation_name(node.relation)
        index = node.idxname or "(unnamed)"
        self._lock(a, table, _SUE if node.concurrent else _SHARE)
        if node.if_not_exists and node.idxname in self.schema.indexes:
            a.notes.append(f"{index} already exists: nothing is built, the lock is still taken")
            return
        self._scan(a, table)
        if node.concurrent:
            a.no_transaction = True
        else:
            self._hit(a, table, "MR-LOCK-INDEX", index=index)
        if node.idxname:
            self.schema.indexes[node.idxname] = table
            self.schema.created.add(node.idxname)

    def _CreateTrigStmt(self, node: ast.CreateTrigStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        self._lock(a, relation_name(node.relation), _SRE)

    def _CreateStatsStmt(self, node: ast.CreateStatsStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        for rv in node.relations or ():
            if isinstance(rv, ast.RangeVar):
                self._lock(a, relation_name(rv), _SUE, recurse=False)

    def _RuleStmt(self, node: ast.RuleStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        self._lock(a, relation_name(node.relation), _AE, recurse=False)

    def _CommentStmt(self, node: ast.CommentStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        objtype = node.objtype
        target = node.object
        if objtype in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
            self._lock(a, _qualified(target), _SUE, recurse=False)
        elif objtype in (ObjectType.OBJECT_COLUMN, ObjectType.OBJECT_TABCONSTRAINT):
            self._lock(a, _qualified(target[:-1]), _SUE, recurse=False)

    def _AlterSeqStmt(self, node: ast.AlterSeqStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        for option in node.options or ():
            if option.defname == "owned_by" and len(option.arg) > 1:
                self._lock(a, _qualified(option.arg[:-1]), lk.ACCESS_SHARE, recurse=False)

    # -- ALTER TABLE -------------------------------------------------------------------------

    def _AlterTableStmt(self, node: ast.AlterTableStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        name = relation_name(node.relation)
        if node.objtype in (ObjectType.OBJECT_INDEX, ObjectType.OBJECT_SEQUENCE):
            simple = (
                AlterTableType.AT_SetRelOptions,
                AlterTableType.AT_ResetRelOptions,
                AlterTableType.AT_SetStatistics,
                AlterTableType.AT_ChangeOwner,
            )
            a.recognised = all(cmd.subtype in simple for cmd in node.cmds)
            return
        if node.missing_ok and name not in self.schema.tables and self.schema.tables:
            a.notes.append(f"IF EXISTS: {name} is not known here")
        known = self.schema.tables.get(name)
        partitions = list(known.partitions) if known else []
        modes = [self._alter_cmd(name, cmd, a, op) for cmd in node.cmds]
        mode = lk.strongest(m for m in modes if m)
        if mode:
            self._lock(a, name, mode, recurse=False)
        if mode and node.relation.inh and any(c.subtype not in _NO_RECURSION for c in node.cmds):
            for part in partitions:
                self._lock(a, part, mode)

    def _alter_cmd(
        self, table: str, cmd: ast.AlterTableCmd, a: Analysis, op: OperationInfo | None
    ) -> str | None:
        kind = cmd.subtype
        if kind == AlterTableType.AT_AddColumn:
            self._column_def(table, cmd.def_, a, adding=True)
            return _AE
        if kind == AlterTableType.AT_SetNotNull:
            self._set_not_null(table, cmd.name, a)
            return _AE
        if kind == AlterTableType.AT_DropNotNull:
            column = self.schema.column(table, cmd.name)
            if column:
                column.not_null = False
            return _AE
        if kind == AlterTableType.AT_AlterColumnType:
            self._alter_type(table, cmd, a, op)
            return _AE
        if kind == AlterTableType.AT_DropColumn:
            self._drop_column(table, cmd.name, a, cascade=cmd.behavior == DropBehavior.DROP_CASCADE)
            return _AE
        if kind == AlterTableType.AT_AddConstraint:
            return self._add_constraint(table, cmd.def_, a)
        if kind == AlterTableType.AT_ValidateConstraint:
            self._validate(table, cmd.name, a, op)
            return _SUE
        if kind == AlterTableType.AT_DropConstraint:
            self._drop_constraint(
                table, cmd.name, a, op, cascade=cmd.behavior == DropBehavior.DROP_CASCADE
            )
            return _AE
        if kind in (AlterTableType.AT_SetRelOptions, AlterTableType.AT_ResetRelOptions):
            names = {option.defname.split(".")[-1] for option in cmd.def_ or ()}
            light = all(n in _LIGHT_RELOPTIONS or n.startswith("autovacuum_") for n in names)
            return _SUE if light else _AE
        if kind in _AT_REWRITES:
            self._rewrite(a, table)
            self._hit(a, table, "MR-REWRITE-TABLE")
            return _AE
        if kind == AlterTableType.AT_SetExpression:
            self._rewrite(a, table)
            self._hit(a, table, "MR-REWRITE-TABLE")
            return _AE
        if kind == AlterTableType.AT_AttachPartition:
            part = relation_name(cmd.def_.name)
            self._lock(a, part, _AE)
            self._scan(a, part)
            self._table(table).partitions.append(part)
            return _SUE if self.pg_version >= 12 else _AE
        if kind == AlterTableType.AT_DetachPartition:
            part = relation_name(cmd.def_.name)
            concurrent = bool(cmd.def_.concurrent)
            self._lock(a, part, _SUE if concurrent else _AE)
            if concurrent:
                a.no_transaction = True
            known = self.schema.tables.get(table)
            if known and part in known.partitions:
                known.partitions.remove(part)
            return _SUE if concurrent else _AE
        mode = _AT_LOCKS.get(kind)
        if mode is None:
            a.recognised = False
            return _AE
        return mode

    def _column_def(self, table: str, col: ast.ColumnDef, a: Analysis, *, adding: bool) -> None:
        """A column of CREATE TABLE, or one added by ALTER TABLE ADD COLUMN."""
        sql_type = SqlType.from_node(col.typeName) if col.typeName else None
        column = Column(col.colname, sql_type, not_null=bool(col.is_not_null))
        default: ast.Node | None = None
        fills: str | None = None
        constraints = _with_attributes(col.constraints or ())
        for con in constraints:
            contype = con.contype
            if contype == ConstrType.CONSTR_DEFAULT:
                default = con.raw_expr
            elif contype in (ConstrType.CONSTR_NOTNULL, ConstrType.CONSTR_PRIMARY):
                column.not_null = True
            elif contype == ConstrType.CONSTR_IDENTITY:
                column.not_null = True
                fills = "an identity column"
            elif (
                contype == ConstrType.CONSTR_GENERATED
                and getattr(con, "generated_kind", "s") != "v"
            ):
                fills = "a stored generated column"
        if sql_type and sql_type.name in SERIAL_TYPES:
            column.not_null = True
            fills = f"a {sql_type.name} column (a nextval() default)"
        self._table(table).columns[column.name] = column
        has_default = default is not None and not _is_null(default)
        for con in constraints:
            if con.contype not in (
                ConstrType.CONSTR_DEFAULT,
                ConstrType.CONSTR_NOTNULL,
                ConstrType.CONSTR_NULL,
                ConstrType.CONSTR_IDENTITY,
                ConstrType.CONSTR_GENERATED,
            ):
                self._new_constraint(
                    table, con, a, columns=(column.name,), filled=has_default or bool(fills)
                )
        if not adding:
            return
        if fills:
            self._rewrite(a, table)
            self._hit(a, table, "MR-ADD-COLUMN-GENERATED", column=column.name, detail=fills)
        elif has_default:
            volatility, function = _volatility(default)
            detail = deparse(default) if default is not None else ""
            if self.pg_version < 11:
                self._rewrite(a, table)
                self._hit(
                    a,
                    table,
                    "MR-ADD-COLUMN-DEFAULT-PRE11",
                    column=column.name,
                    version=str(self.pg_version),
                )
            elif volatility != "fast":
                self._rewrite(a, table)
                self._hit(
                    a, table, "MR-ADD-COLUMN-DEFAULT-VOLATILE", column=column.name, detail=detail
                )
                if volatility == "unknown":
                    a.notes.append(
                        f"{function}() is not known to be stable or immutable: assumed volatile "
                        "(a rewrite). A stable or immutable default is instant from PostgreSQL 11."
                    )
        elif column.not_null:
            self._scan(a, table)
            self._hit(a, table, "MR-ADD-COLUMN-NOT-NULL", column=column.name)

    def _new_constraint(
        self,
        table: str,
        con: ast.Constraint,
        a: Analysis,
        *,
        columns: tuple[str, ...] | None,
        filled: bool = False,
    ) -> None:
        """A constraint declared with its table or column (CREATE TABLE, ADD COLUMN)."""
        keys = tuple(k.sval for k in con.keys or ()) if con.keys else (columns or ())
        contype = con.contype
        if contype == ConstrType.CONSTR_FOREIGN:
            referenced = relation_name(con.pktable)
            self._lock(a, referenced, _SRE, recurse=False)
            fk_cols = tuple(k.sval for k in con.fk_attrs or ()) or keys
            name = con.conname or f"{table}_{'_'.join(fk_cols)}_fkey"
            self.schema.add_constraint(_foreign_key(name, table, con, fk_cols))
            if filled:
                self._scan(a, table)
        elif contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
            primary = contype == ConstrType.CONSTR_PRIMARY
            suffix = "pkey" if primary else f"{'_'.join(keys)}_key"
            name = con.conname or f"{table}_{suffix}"
            self.schema.add_constraint(
                Constraint(name, table, "primary_key" if primary else "unique", columns=keys)
            )
            self.schema.indexes[name] = table
            self.schema.created.add(name)
            self._lock(a, table, _SHARE)
            self._scan(a, table)
            if columns is not None:
                self._hit(a, table, "MR-ADD-UNIQUE", constraint=name, column=",".join(keys))
        elif contype == ConstrType.CONSTR_CHECK:
            name = con.conname or f"{table}_{'_'.join(keys) or 'check'}_check"
            self.schema.add_constraint(
                Constraint(name, table, "check", proves_not_null=_proves_not_null(con.raw_expr))
            )
            self._scan(a, table)
            if columns is not None:
                self._hit(a, table, "MR-ADD-CHECK", constraint=name)
        elif contype == ConstrType.CONSTR_EXCLUSION:
            name = con.conname or f"{table}_excl"
            self.schema.add_constraint(Constraint(name, table, "exclusion"))
            self._scan(a, table)

    def _set_not_null(self, table: str, name: str, a: Analysis) -> None:
        column = self.schema.column(table, name)
        if column and column.not_null:
            a.notes.append(f"{table}.{name} is already NOT NULL: nothing to check")
        elif self.pg_version >= 12 and any(
            c.validated and name in c.proves_not_null
            for c in self.schema.constraints.values()
            if c.table == table
        ):
            a.notes.append(
                f"a validated CHECK ({name} IS NOT NULL) proves the column: PostgreSQL "
                f"{self.pg_version} skips the scan"
            )
        else:
            self._scan(a, table)
            self._hit(a, table, "MR-SET-NOT-NULL", column=name)
        self._table(table).columns.setdefault(name, Column(name)).not_null = True

    def _alter_type(
        self, table: str, cmd: ast.AlterTableCmd, a: Analysis, op: OperationInfo | None
    ) -> None:
        name = cmd.name
        new = SqlType.from_node(cmd.def_.typeName)
        column = self._table(table).columns.setdefault(name, Column(name))
        old = column.type or _old_type_from_operation(op, new)
        using = cmd.def_.raw_default
        plain_using = using is None or _is_plain_cast(using, name, new)
        if old is None:
            rewrites, caveat = (
                True,
                (
                    f"the current type of {table}.{name} is not known here: assumed a rewrite "
                    "(the trace shows what really happened)"
                ),
            )
        else:
            rewrites, caveat = change_rewrites(old, new, pg_version=self.pg_version)
            if not plain_using:
                rewrites, caveat = True, "a USING expression recomputes every row"
        if cmd.def_.collClause and not rewrites:
            a.notes.append("a collation change rebuilds the indexes on the column")
        if caveat:
            a.notes.append(caveat)
        if rewrites:
            self._rewrite(a, table)
            self._hit(
                a,
                table,
                "MR-ALTER-COLUMN-TYPE",
                column=name,
                old_type=str(old) if old else "its current type",
                new_type=str(new),
            )
        column.type = new

    def _drop_column(self, table: str, name: str, a: Analysis, *, cascade: bool) -> None:
        known = self.schema.tables.get(table)
        for con in list(self.schema.constraints.values()):
            if con.table == table and name in con.columns:
                if con.kind == "foreign_key" and con.references and con.references != table:
                    self._lock(a, con.references, _AE, recurse=False)
                self.schema.constraints.pop((con.table, con.name), None)
            elif con.references == table and cascade and name in con.columns:
                self._lock(a, con.table, _AE, recurse=False)
        if known is None or name not in known.columns:
            a.notes.append(
                f"if {table}.{name} has a foreign key, the referenced table is locked too "
                "(ACCESS EXCLUSIVE, to drop its trigger)"
            )
        if known:
            known.columns.pop(name, None)
        self._hit(a, table, "MR-DROP-COLUMN", column=name)

    def _add_constraint(self, table: str, con: ast.Constraint, a: Analysis) -> str:
        contype = con.contype
        name = con.conname or "(unnamed)"
        validate = not con.skip_validation
        if contype == ConstrType.CONSTR_FOREIGN:
            referenced = relation_name(con.pktable)
            self._lock(a, referenced, _SRE, recurse=False)
            cols = tuple(k.sval for k in con.fk_attrs or ())
            fk = _foreign_key(name, table, con, cols)
            fk.validated = validate
            self.schema.add_constraint(fk)
            if validate:
                self._scan(a, table)
                self._hit(a, table, "MR-ADD-FOREIGN-KEY", constraint=name, referenced=referenced)
            return _SRE
        if contype == ConstrType.CONSTR_CHECK:
            self.schema.add_constraint(
                Constraint(
                    name,
                    table,
                    "check",
                    validated=validate,
                    proves_not_null=_proves_not_null(con.raw_expr),
                )
            )
            if validate:
                self._scan(a, table)
                self._hit(a, table, "MR-ADD-CHECK", constraint=name)
            return _AE
        if contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
            keys = tuple(k.sval for k in con.keys or ())
            primary = contype == ConstrType.CONSTR_PRIMARY
            self.schema.add_constraint(
                Constraint(name, table, "primary_key" if primary else "unique", columns=keys)
            )
            if con.indexname:
                self.schema.indexes.pop(con.indexname, None)
                self.schema.indexes[name] = table
                return _AE
            self.schema.indexes[name] = table
            self.schema.created.add(name)
            self._scan(a, table)
            self._hit(a, table, "MR-ADD-UNIQUE", constraint=name, column=",".join(keys))
            return _AE
        if contype == ConstrType.CONSTR_EXCLUSION:
            self.schema.add_constraint(Constraint(name, table, "exclusion"))
            self._scan(a, table)
            self._hit(a, table, "MR-ADD-UNIQUE", constraint=name)
            return _AE
        if contype == ConstrType.CONSTR_NOTNULL:
            column = con.keys[0].sval
            if validate:
                self._set_not_null(table, column, a)
            return _AE
        a.recognised = False
        return _AE

    def _validate(self, table: str, name: str, a: Analysis, op: OperationInfo | None) -> None:
        self._scan(a, table)
        con = self.schema.constraint(table, name)
        if con is None:
            referenced = self._guess_referenced(name, op)
            if referenced:
                con = Constraint(name, table, "foreign_key", references=referenced)
                a.notes.append(f"{name} is taken for a foreign key to {referenced} (its name)")
            else:
                a.notes.append(
                    f"{name} is not known here: if it is a foreign key, the referenced table "
                    "gets a ROW SHARE lock too"
                )
                return
            self.schema.add_constraint(con)
        if con.kind == "foreign_key" and con.references:
            self._lock(a, con.references, lk.ROW_SHARE, recurse=False)
        if con.kind == "not_null":
            for column in con.columns:
                self._table(table).columns.setdefault(column, Column(column)).not_null = True
        con.validated = True

    def _drop_constraint(
        self, table: str, name: str, a: Analysis, op: OperationInfo | None, *, cascade: bool
    ) -> None:
        con = self.schema.constraints.pop((table, name), None)
        if con is None:
            referenced = self._guess_referenced(name, op)
            if referenced:
                con = Constraint(name, table, "foreign_key", references=referenced)
                a.notes.append(f"{name} is taken for a foreign key to {referenced} (its name)")
        if con and con.kind == "foreign_key" and con.references and con.references != table:
            self._lock(a, con.references, _AE, recurse=False)
        if con and con.kind in ("primary_key", "unique") and cascade:
            for fk in self.schema.foreign_keys_to(table):
                self._lock(a, fk.table, _AE, recurse=False)
                self.schema.constraints.pop((fk.table, fk.name), None)
        if con and con.kind in ("primary_key", "unique"):
            self.schema.indexes.pop(name, None)

    def _guess_referenced(self, name: str, op: OperationInfo | None) -> str | None:
        """The referenced table of a foreign key known only by its Django-made name,
        ``<table>_<column>_<hash>_fk_<referenced table>_<referenced column>``."""
        if "_fk_" not in name:
            return None
        parts = name.rsplit("_fk_", 1)[1].split("_")
        candidates = ["_".join(parts[:k]) for k in range(len(parts) - 1, 0, -1)]
        for candidate in candidates:
            if candidate in self.schema.tables:
                return candidate
        return candidates[0] if candidates else None

    # -- RENAME, DROP, others ----------------------------------------------------------------

    def _RenameStmt(self, node: ast.RenameStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        kind = node.renameType
        if node.relation is None:
            return
        name = relation_name(node.relation)
        if kind in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_FOREIGN_TABLE):
            self._lock(a, name, _AE, recurse=False)
            self._hit(a, name, "MR-RENAME-TABLE", new_name=node.newname)
            self.schema.rename_table(name, node.newname)
        elif kind == ObjectType.OBJECT_COLUMN:
            self._lock(a, name, _AE)
            self._hit(a, name, "MR-RENAME-COLUMN", column=node.subname, new_name=node.newname)
            self.schema.rename_column(name, node.subname, node.newname)
        elif kind == ObjectType.OBJECT_TABCONSTRAINT:
            self._lock(a, name, _AE, recurse=False)
            con = self.schema.constraints.pop((name, node.subname), None)
            if con:
                con.name = node.newname
                self.schema.add_constraint(con)
            if node.subname in self.schema.indexes:
                self.schema.indexes[node.newname] = self.schema.indexes.pop(node.subname)
        elif kind == ObjectType.OBJECT_INDEX:
            if name in self.schema.indexes:
                self.schema.indexes[node.newname] = self.schema.indexes.pop(name)
            if name in self.schema.created:
                self.schema.created.add(node.newname)
        elif kind in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
            self._lock(a, name, _AE, recurse=False)
            self.schema.rename_table(name, node.newname)
        elif kind != ObjectType.OBJECT_SEQUENCE:
            a.recognised = False

    def _AlterObjectSchemaStmt(self, node: ast.AlterObjectSchemaStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        if node.objectType in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_VIEW):
            name = relation_name(node.relation)
            self._lock(a, name, _AE, recurse=False)
            if node.newschema != "public":
                self.schema.rename_table(name, f"{node.newschema}.{node.relation.relname}")

    def _DropStmt(self, node: ast.DropStmt, a: Analysis, op: OperationInfo | None) -> None:
        a.kind = "ddl"
        kind = node.removeType
        cascade = node.behavior == DropBehavior.DROP_CASCADE
        names = [_qualified(obj) for obj in node.objects or ()]
        if kind in (ObjectType.OBJECT_TABLE, ObjectType.OBJECT_FOREIGN_TABLE):
            for name in names:
                self._drop_table(name, a, cascade=cascade)
        elif kind == ObjectType.OBJECT_INDEX:
            mode = _SUE if node.concurrent else _AE
            a.no_transaction = bool(node.concurrent)
            for name in names:
                table = self.schema.indexes.pop(name, None)
                if table is None and op is not None and op.table:
                    table = op.table
                if name in self.schema.created:
                    continue
                if table is None:
                    table = f"(table of {name})"
                    a.notes.append(
                        f"the table of index {name} is not known here: PostgreSQL locks it "
                        f"with {mode}"
                    )
                self._lock(a, table, mode, recurse=False)
                if not node.concurrent:
                    self._hit(a, table, "MR-DROP-INDEX", index=name)
        elif kind in (ObjectType.OBJECT_VIEW, ObjectType.OBJECT_MATVIEW):
            for name in names:
                self._lock(a, name, _AE, recurse=False)
                self.schema.drop_table(name)
        elif kind == ObjectType.OBJECT_TRIGGER:
            for obj in node.objects or ():
                self._lock(a, _qualified(obj[:-1]), _AE, recurse=False)
        elif cascade and kind != ObjectType.OBJECT_SEQUENCE:
            a.recognised = False

    def _drop_table(self, name: str, a: Analysis, *, cascade: bool) -> None:
        self._lock(a, name, _AE)
        known = name in self.schema.tables
        for fk in self.schema.foreign_keys_of(name):
            if fk.references and fk.references != name:
                self._lock(a, fk.references, _AE, recurse=False)
        if cascade:
            for fk in self.schema.foreign_keys_to(name):
                self._lock(a, fk.table, _AE, recurse=False)
                self.schema.constraints.pop((fk.table, fk.name), None)
            for view in self.schema.views_reading(name):
                self._lock(a, view, _AE, recurse=False)
                self.schema.drop_table(view)
        if not known:
            a.notes.append(
                f"the foreign keys of {name} are not known here: every table it references "
                "(and, with CASCADE, every table referencing it) is locked ACCESS EXCLUSIVE too"
            )
        self._hit(a, name, "MR-DROP-TABLE")
        self.schema.drop_table(name)
        self.schema.created.discard(name)

    def _TruncateStmt(self, node: ast.TruncateStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        cascade = node.behavior == DropBehavior.DROP_CASCADE
        for rv in node.relations:
            name = relation_name(rv)
            self._lock(a, name, _AE)
            self._rewrite(a, name)
            self._hit(a, name, "MR-TRUNCATE")
            if cascade:
                for fk in self.schema.foreign_keys_to(name):
                    self._lock(a, fk.table, _AE)
                    self._rewrite(a, fk.table)

    def _LockStmt(self, node: ast.LockStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        mode = lk.MODES[node.mode - 1]
        for rv in node.relations:
            self._lock(a, relation_name(rv), mode, recurse=rv.inh)

    def _VacuumStmt(self, node: ast.VacuumStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        options = {o.defname for o in node.options or ()}
        if not node.rels:
            a.recognised = False
            return
        full = node.is_vacuumcmd and "full" in options
        a.no_transaction = bool(node.is_vacuumcmd)
        for rel in node.rels:
            name = relation_name(rel.relation)
            self._lock(a, name, _AE if full else _SUE)
            if full:
                self._rewrite(a, name)
                self._hit(a, name, "MR-REWRITE-TABLE")

    def _ClusterStmt(self, node: ast.ClusterStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        if node.relation is None:
            a.recognised = False
            return
        name = relation_name(node.relation)
        self._lock(a, name, _AE)
        self._rewrite(a, name)
        self._hit(a, name, "MR-REWRITE-TABLE")

    def _ReindexStmt(self, node: ast.ReindexStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        concurrent = any(p.defname == "concurrently" for p in node.params or ())
        if node.kind == ReindexObjectType.REINDEX_OBJECT_TABLE:
            table: str | None = relation_name(node.relation)
        elif node.kind == ReindexObjectType.REINDEX_OBJECT_INDEX:
            index = relation_name(node.relation)
            table = self.schema.indexes.get(index) or f"(table of {index})"
            if index not in self.schema.indexes:
                a.notes.append(f"the table of index {index} is not known here")
        else:
            a.recognised = False
            return
        a.no_transaction = concurrent
        self._lock(a, table, _SUE if concurrent else _SHARE)
        self._scan(a, table)
        if not concurrent:
            self._hit(a, table, "MR-REINDEX")

    def _RefreshMatViewStmt(self, node: ast.RefreshMatViewStmt, a: Analysis, op: Any) -> None:
        a.kind = "ddl"
        name = relation_name(node.relation)
        self._lock(a, name, lk.EXCLUSIVE if node.concurrent else _AE)
        if not node.skipData:
            self._scan(a, name)
            if not node.concurrent:
                self._rewrite(a, name)
        view = self.schema.tables.get(name)
        if view is None or view.kind != "matview":
            a.notes.append("the tables the view reads are not known here: they get ACCESS SHARE")
            return
        for source in sorted(view.reads):
            self._lock(a, source, lk.ACCESS_SHARE, recurse=False)

    # -- DML and queries ---------------------------------------------------------------------

    def _SelectStmt(self, node: ast.SelectStmt, a: Analysis, op: Any) -> None:
        a.kind = "query"
        self._dml(node, a)

    def _InsertStmt(self, node: ast.InsertStmt, a: Analysis, op: Any) -> None:
        self._dml(node, a)

    def _UpdateStmt(self, node: ast.UpdateStmt, a: Analysis, op: Any) -> None:
        self._dml(node, a)

    def _DeleteStmt(self, node: ast.DeleteStmt, a: Analysis, op: Any) -> None:
        self._dml(node, a)

    def _MergeStmt(self, node: ast.MergeStmt, a: Analysis, op: Any) -> None:
        self._dml(node, a)

    def _dml(self, node: ast.Node, a: Analysis) -> None:
        targets: list[ast.RangeVar] = []
        for child in _walk(node):
            if isinstance(child, _DML):
                targets.append(child.relation)
        target_names = {relation_name(rv) for rv in targets}
        self._reads(a, node, skip=target_names)
        for child in _walk(node):
            if isinstance(child, ast.SelectStmt) and child.lockingClause:
                for rv in _walk(child.fromClause):
                    if isinstance(rv, ast.RangeVar):
                        self._lock(a, relation_name(rv), lk.ROW_SHARE, recurse=False)
        for child in _walk(node):
            if isinstance(child, _DML):
                self._dml_target(child, a)

    def _dml_target(self, node: ast.Node, a: Analysis) -> None:
        a.kind = "dml"
        table = relation_name(node.relation)
        self._lock(a, table, lk.ROW_EXCLUSIVE)
        if self.schema.is_new(table):
            return
        a.dml = True
        if isinstance(node, ast.InsertStmt):
            for fk in self.schema.foreign_keys_of(table):
                if fk.references and not fk.deferred:
                    self._lock(a, fk.references, lk.ROW_SHARE, recurse=False)
            select = node.selectStmt
            if isinstance(select, ast.SelectStmt) and select.fromClause:
                self._hit(a, table, "MR-DML")
            return
        if isinstance(node, ast.UpdateStmt):
            changed = {t.name for t in node.targetList or () if isinstance(t, ast.ResTarget)}
            for fk in self.schema.foreign_keys_of(table):
                if fk.references and not fk.deferred and changed & set(fk.columns):
                    self._lock(a, fk.references, lk.ROW_SHARE, recurse=False)
        if isinstance(node, ast.DeleteStmt):
            for fk in self.schema.foreign_keys_to(table):
                if fk.on_delete in ("c", "n", "d"):
                    self._lock(a, fk.table, lk.ROW_EXCLUSIVE, recurse=False)
                elif fk.on_delete == "r" or not fk.deferred:
                    self._lock(a, fk.table, lk.ROW_SHARE, recurse=False)
        where = getattr(node, "whereClause", None)
        if isinstance(node, ast.MergeStmt) or where is not None:
            self._hit(a, table, "MR-DML")
        else:
            self._hit(a, table, "MR-DML-UNBOUNDED")


def _with_attributes(constraints: Any) -> list[ast.Constraint]:
    """Column constraints with DEFERRABLE / INITIALLY DEFERRED folded into the constraint before
    them, as the server's transformConstraintAttrs does."""
    folded: list[ast.Constraint] = []
    for con in constraints:
        if con.contype == ConstrType.CONSTR_ATTR_DEFERRABLE and folded:
            folded[-1].deferrable = True
        elif con.contype == ConstrType.CONSTR_ATTR_DEFERRED and folded:
            folded[-1].initdeferred = True
        elif con.contype not in (
            ConstrType.CONSTR_ATTR_NOT_DEFERRABLE,
            ConstrType.CONSTR_ATTR_IMMEDIATE,
        ):
            folded.append(con)
    return folded


def _foreign_key(
    name: str, table: str, con: ast.Constraint, columns: tuple[str, ...]
) -> Constraint:
    return Constraint(
        name,
        table,
        "foreign_key",
        validated=not con.skip_validation,
        columns=columns,
        references=relation_name(con.pktable),
        deferred=bool(con.initdeferred),
        on_delete=con.fk_del_action if con.fk_del_action not in ("\x00", "", None) else "a",
    )


def _relations_read(query: ast.Node) -> set[str]:
    ctes = {c.ctename for c in _walk(query) if isinstance(c, ast.CommonTableExpr)}
    return {
        relation_name(rv)
        for rv in _walk(query)
        if isinstance(rv, ast.RangeVar) and relation_name(rv) not in ctes
    }


def _is_null(node: ast.Node) -> bool:
    if isinstance(node, ast.TypeCast):
        return _is_null(node.arg)
    return isinstance(node, ast.A_Const) and bool(node.isnull)


def _volatility(node: ast.Node | None) -> tuple[Literal["fast", "volatile", "unknown"], str]:
    """Whether a default is evaluated once (constant, stable, immutable) or per row."""
    verdict: Literal["fast", "volatile", "unknown"] = "fast"
    unknown = ""
    for child in _walk(node):
        if isinstance(child, ast.FuncCall):
            name = child.funcname[-1].sval.lower()
            if name in _VOLATILE_FUNCTIONS:
                return "volatile", name
            if name not in _FAST_FUNCTIONS:
                verdict, unknown = "unknown", name
        elif isinstance(child, ast.SubLink):
            verdict, unknown = "unknown", "a subquery"
    return verdict, unknown


def _proves_not_null(expr: ast.Node | None) -> tuple[str, ...]:
    """Columns ``expr`` proves non-null: ``col IS NOT NULL``, also as one side of an AND."""
    if isinstance(expr, ast.NullTest) and expr.nulltesttype == NullTestType.IS_NOT_NULL:
        arg = expr.arg
        if isinstance(arg, ast.ColumnRef) and isinstance(arg.fields[-1], ast.String):
            return (arg.fields[-1].sval,)
    if isinstance(expr, ast.BoolExpr) and expr.boolop == 0:
        return tuple(c for arg in expr.args for c in _proves_not_null(arg))
    return ()


def _is_plain_cast(using: ast.Node, column: str, new: SqlType) -> bool:
    """``USING "col"::newtype`` (what Django writes) is the default conversion, not a rewrite."""
    if isinstance(using, ast.TypeCast):
        if SqlType.from_node(using.typeName) != new:
            return False
        using = using.arg
    return (
        isinstance(using, ast.ColumnRef)
        and len(using.fields) == 1
        and getattr(using.fields[0], "sval", None) == column
    )


def _old_type_from_operation(op: OperationInfo | None, new: SqlType) -> SqlType | None:
    """The column's type before an AlterField, from Django's own db_type() of the old field.

    Django alters the field's column and the columns of foreign keys pointing at it to the same
    new type, so a statement whose new type is the field's new type started from the old one.
    """
    if op is None or op.old_field is None or op.field is None:
        return None
    if not (op.old_field.db_type and op.field.db_type):
        return None
    if SqlType.parse(op.field.db_type) != new:
        return None
    return SqlType.parse(op.old_field.db_type)


_KIND_RANK: dict[Kind, int] = {
    "ddl": 4,
    "dml": 3,
    "query": 2,
    "session": 1,
    "transaction": 0,
    "other": 5,
}


@dataclass
class _Static:
    """The static reading of one statement (one or more parsed statements)."""

    kind: Kind
    effect: Effect
    hits: list[Hit]
    notes: list[str]
    lock_timeout: bool
    no_transaction: bool = False
    aliases: dict[str, str] = field(default_factory=dict)


def _merge(results: list[_Static]) -> _Static:
    own: dict[str, str] = {}
    for r in results:
        for name, mode in r.effect.locks.items():
            lk.merge(own, name, mode)
    effect = Effect(
        locks=own,
        held=results[0].effect.held,
        rewrite=any(r.effect.rewrite for r in results),
        scan=any(r.effect.scan for r in results),
        dml=any(r.effect.dml for r in results),
    )
    return _Static(
        kind=max((r.kind for r in results), key=_KIND_RANK.__getitem__),
        effect=effect,
        hits=[h for r in results for h in r.hits],
        notes=[n for r in results for n in r.notes],
        lock_timeout=results[-1].lock_timeout,
        no_transaction=any(r.no_transaction for r in results),
        aliases=results[-1].aliases,
    )


def _view(effect: Effect, hits: list[Hit], notes: list[str], nodes: list[ast.Node]) -> View:
    """A view of the statement from its effect; working under an earlier, more blocking lock is
    a hit of its own."""
    found = list(hits)
    if effect.slowed_by_held_lock:
        found.append(Hit("MR-WORK-UNDER-HELD-LOCK", held_values(effect)))
    return View(
        locks=effect_locks(effect),
        blocks=effect.blocks,
        rewrite=effect.rewrite,
        scan=effect.scan,
        locks_risk=assess(effect),
        hits=found,
        notes=notes,
        work=work(nodes, rewrite=effect.rewrite, scan=effect.scan),
        held=effect.held,
    )


def held_values(effect: Effect) -> dict[str, str]:
    """Names for MR-WORK-UNDER-HELD-LOCK's message: the most blocking lock still held."""
    name, mode = max(effect.held.items(), key=lambda item: lk.level(item[1]))
    return {
        "held": f"the {lk.SQL_NAMES[mode]} lock",
        "held_table": name,
        "held_blocks": "reads and writes" if lk.blocks(mode) == "reads" else "writes",
    }


def _timeout_set(value: str | None) -> bool:
    return value not in (None, "", "0", "0s", "0ms")
