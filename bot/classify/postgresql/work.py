"""The kind of work a PostgreSQL statement does, for the estimate of how long it takes.

The view says whether it rewrites or scans the table; the parsed statement says whether it
builds an index (concurrently or not), changes rows, or only changes the catalogs.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType, ConstrType

from bot.models import Work

# Statements whose work depends on what they run, not on the table they touch.
OPAQUE = (
    ast.DoStmt,
    ast.SelectStmt,
    ast.CallStmt,
    ast.CopyStmt,
    ast.ExecuteStmt,
    ast.CreateTableAsStmt,
    ast.RefreshMatViewStmt,
    ast.ReindexStmt,
    ast.ClusterStmt,
    ast.VacuumStmt,
)
INDEX_CONSTRAINTS = (
    ConstrType.CONSTR_PRIMARY,
    ConstrType.CONSTR_UNIQUE,
    ConstrType.CONSTR_EXCLUSION,
)
VALIDATED_CONSTRAINTS = (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN)


def work(nodes: list[ast.Node], *, rewrite: bool, scan: bool) -> Work:
    """The work of a statement parsed into ``nodes`` (several, or none: not one statement)."""
    node = nodes[0] if len(nodes) == 1 else None
    relation = getattr(node, "relation", None)
    target = _name(relation) if isinstance(relation, ast.RangeVar) else None
    if rewrite:
        return Work(kind="rewrite", table=target)
    if isinstance(node, ast.CreateStmt):
        return Work(kind="catalog", table=target, creates=target)
    if isinstance(node, ast.IndexStmt):
        return Work(kind="index-concurrent" if node.concurrent else "index", table=target)
    if isinstance(node, ast.AlterTableStmt):
        constraints = _added_constraints(node)
        if any(c.contype in INDEX_CONSTRAINTS and not c.indexname for c in constraints):
            return Work(kind="index", table=target)
        validates = any(cmd.subtype == AlterTableType.AT_ValidateConstraint for cmd in node.cmds)
        checks = any(
            c.contype in VALIDATED_CONSTRAINTS and not c.skip_validation for c in constraints
        )
        return Work(kind="scan" if scan or validates or checks else "catalog", table=target)
    if isinstance(node, ast.UpdateStmt | ast.DeleteStmt):
        verb = "updates" if isinstance(node, ast.UpdateStmt) else "deletes"
        return Work(kind="dml", table=target, verb=verb, where=node.whereClause is not None)
    if isinstance(node, ast.InsertStmt):
        select = node.selectStmt
        if isinstance(select, ast.SelectStmt) and select.valuesLists:
            return Work(kind="dml", table=target, verb="inserts", rows=len(select.valuesLists))
        tables = [
            r for r in getattr(select, "fromClause", None) or () if isinstance(r, ast.RangeVar)
        ]
        source = _name(tables[0]) if tables else None
        return Work(kind="dml", table=target, source=source, verb="inserts", where=source is None)
    if node is None or isinstance(node, OPAQUE):
        return Work(kind="scan" if scan else "unknown", table=target)
    return Work(kind="scan" if scan else "catalog", table=target)


def _added_constraints(node: ast.AlterTableStmt) -> list[ast.Constraint]:
    """Constraints an ALTER TABLE adds, as ADD CONSTRAINT or inline in ADD COLUMN."""
    found: list[ast.Constraint] = []
    for cmd in node.cmds:
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            found.append(cmd.def_)
        elif cmd.subtype == AlterTableType.AT_AddColumn and isinstance(cmd.def_, ast.ColumnDef):
            found.extend(c for c in cmd.def_.constraints or () if isinstance(c, ast.Constraint))
    return found


def _name(relation: ast.RangeVar) -> str:
    return f"{relation.schemaname}.{relation.relname}" if relation.schemaname else relation.relname
