"""Telling a failure of the scratch database from a failure of the migration.

A migration that fails on the scratch database would fail in production too; a scratch database
that is dropped under the run, restarted, cut off or out of resources says nothing about the
migration, and the review must not blame it. The server's error class says which (SQLSTATE
08 connection, 57P0x shutdown, 3D000 no such database, 53 insufficient resources, 58 system
error; MySQL's lost-connection and out-of-resource codes), and so does a connection that is
closed after the error.
"""

from __future__ import annotations

from typing import Any

SQLSTATE_CLASSES = ("08", "53", "58")
SQLSTATES = ("57P01", "57P02", "57P03", "3D000")
MYSQL_CODES = (1040, 1041, 1049, 2002, 2003, 2006, 2013)
"""Too many connections, out of memory, unknown database, cannot connect, server gone, lost."""

HINT = (
    "this is the scratch database's failure, not the migration's: the database was dropped, "
    "the server restarted or stopped, the connection was lost, or the server ran out of "
    "resources while the review ran. Run the review again; with --database-url, check that "
    "server"
)


def scratch_fault(exc: BaseException, connection: Any) -> bool:
    """Whether ``exc``, raised while working on the scratch database, is that database's."""
    for error in (exc, exc.__cause__):
        if error is None:
            continue
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if code and (code in SQLSTATES or str(code)[:2] in SQLSTATE_CLASSES):
            return True
        args = getattr(error, "args", ())
        if args and isinstance(args[0], int) and args[0] in MYSQL_CODES:
            return True
    raw = getattr(connection, "connection", None)
    return bool(raw is not None and getattr(raw, "closed", False))
