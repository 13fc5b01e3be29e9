"""The rollback rehearsal: each new migration, right after it is applied, is migrated backwards
and forwards again on the scratch database, as ``migrate app <previous>`` then ``migrate`` would.

Rollbacks happen during incidents, when nobody wants to learn that a RunPython has no reverse or
that the reverse takes an ACCESS EXCLUSIVE lock on a big table: the reverse runs traced, so its
statements carry the locks they took. A reverse that raises (or an irreversible operation) is
kept with its error; so is a forward run that fails after the reverse. Where the rehearsal cannot
be rolled back (``contained``: MySQL, a non-atomic migration), that failure most often follows a
no-op reverse, which left the migration's changes in place: the migration is recorded applied
again and the review goes on.
"""

from __future__ import annotations

import traceback
from contextlib import nullcontext
from typing import Any

from . import migrate, trace
from .deadline import DEADLINE
from .errors import CollectorError

COST = 1.5
"""The rehearsal's time over applying's. Both run between the same states, so migrating
backwards runs the reverse of each statement, traced, and forwards again the same ones,
untraced: 1.05 measured for 250 CreateModel, 0.9 for 200 AddField on one table."""


def unapply(state: Any, recorder: migrate.Recorder) -> None:
    """``MigrationExecutor.unapply_migration``, watched by the tracer: ``state`` is the project
    state before the migration (the recorder may replay the states around each operation)."""
    from django.db.migrations.recorder import MigrationRecorder

    migration, connection, tracer = recorder.migration, recorder.connection, recorder.tracer
    editor = recorder.editor_class()(connection, atomic=migration.atomic)
    if tracer is None:
        with editor:
            recorder.steps().unapply(recorder.threaded(state), editor)
    else:
        tracer.start_undo()
        with connection.execute_wrapper(recorder), editor:
            recorder.steps().unapply(recorder.threaded(state), editor)
    history = MigrationRecorder(connection)
    for app_label, name in migrate.recorded(migration):  # the rows applying wrote
        history.record_unapplied(app_label, name)


def rehearse(
    migration: Any,
    connection: Any,
    tracer: trace.Tracer | None,
    states: list[Any],
    file: str,
    *,
    applying: float,
) -> dict[str, Any]:
    """Migrate ``migration`` backwards from the state after it, then forwards again. Returns the
    report's ``rollback``.

    ``states`` are the project states before each operation and after the last, as applying it
    left them (``Recorder.chain``): both runs go between them, as ``Migration.unapply`` would
    after building them again, operation by operation, from the state before the migration.

    When the migration runs in one transaction that can undo DDL, the rehearsal runs in an outer
    transaction that is rolled back: the database is left exactly as the migration left it, even
    when its reverse is a no-op and running it again would insert its rows twice.

    It is not run when it would not end before the review's time limit, as long as applying
    took ``applying`` seconds (``COST``).
    """
    from django.db import transaction
    from django.db.migrations.recorder import MigrationRecorder

    result: dict[str, Any] = {"statements": [], "error": None, "reapply_error": None}
    left = DEADLINE.left()
    if left is not None and COST * applying > left:
        return skipped(
            f"not run: migrating it backwards and forwards again would take about "
            f"{COST * applying:.0f} s (applying it took {applying:.0f} s), more than the "
            f"{max(left, 0):.0f} s left before the review's time limit"
        )
    recorder = migrate.Recorder(migration, connection, tracer, replay=states)
    outer = transaction.atomic(using=connection.alias) if contained(migration, connection) else None
    with outer or nullcontext():
        try:
            unapply(states[0], recorder)
        except Exception as exc:
            result["error"] = _error(
                f"migrating it backwards failed: {type(exc).__name__}: {exc}",
                file,
                "`manage.py migrate` back to the migration before it fails the same way"
                + (
                    ""
                    if outer
                    else "; the scratch database may be left part-reverted, which later "
                    "migrations of this review may trip on"
                ),
            )
        else:
            try:
                migrate.apply(states[0], migrate.Recorder(migration, connection, replay=states))
            except Exception as exc:
                result["reapply_error"] = _error(
                    "applying it again after migrating it backwards failed: "
                    f"{type(exc).__name__}: {exc}",
                    file,
                    "its reverse does not leave the database as it was before it (a no-op "
                    "reverse leaves the migration's changes in place)",
                )
                if not outer:  # most often a no-op reverse: its changes are all still there
                    history = MigrationRecorder(connection)
                    for app_label, name in migrate.recorded(migration):
                        history.record_applied(app_label, name)
        if outer:
            transaction.set_rollback(True, using=connection.alias)
    result["statements"] = _statements(recorder)
    return result


def skipped(why: str) -> dict[str, Any]:
    """The ``rollback`` of a rehearsal not run, or not run to its end."""
    return {"statements": [], "error": None, "reapply_error": None, "skipped": why}


def contained(migration: Any, connection: Any) -> bool:
    """Whether the rehearsal can be undone: the migration runs in one transaction, and the
    backend's transactions undo DDL (PostgreSQL; not MySQL). SQLite's schema editor must turn
    foreign key checks off before its transaction starts, so it cannot run inside another."""
    return bool(
        migration.atomic and connection.features.can_rollback_ddl and connection.vendor != "sqlite"
    )


def _statements(recorder: migrate.Recorder) -> list[dict[str, Any]]:
    """What the reverse ran, in the order it ran (operations last to first), each traced."""
    found = []
    for operation in sorted(recorder.executed_only, key=lambda o: -1 if o is None else o)[::-1]:
        for traced in recorder.executed_only[operation]:
            found.append(
                {
                    "index": len(found),
                    "sql": traced["executed_sql"],
                    "operation": operation,
                    "trace": {**traced, "executed_sql": None},
                }
            )
    return found


def _error(message: str, file: str, hint: str) -> dict[str, Any]:
    return CollectorError(message, file=file, hint=hint, detail=traceback.format_exc()).to_dict()
