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
from .errors import CollectorError

MAX_RENDERS = 20_000
"""Model renders (``reverse_renders``) past which the reverse is not rehearsed: about 20 s."""


def unapply(state: Any, recorder: migrate.Recorder) -> None:
    """``MigrationExecutor.unapply_migration``, watched by the tracer: ``state`` is the project
    state before the migration (the recorder may replay the states around each operation)."""
    from django.db.migrations.recorder import MigrationRecorder

    migration, connection, tracer = recorder.migration, recorder.connection, recorder.tracer
    editor = recorder.editor_class()(connection, atomic=migration.atomic)
    if tracer is None:
        with editor:
            recorder.steps().unapply(state, editor)
    else:
        tracer.start_undo()
        with connection.execute_wrapper(recorder), editor:
            recorder.steps().unapply(state, editor)
    history = MigrationRecorder(connection)
    for app_label, name in migrate.recorded(migration):  # the rows applying wrote
        history.record_unapplied(app_label, name)


def rehearse(
    migration: Any, connection: Any, tracer: trace.Tracer | None, states: list[Any], file: str
) -> dict[str, Any]:
    """Migrate ``migration`` backwards from the state after it, then forwards again. Returns the
    report's ``rollback``.

    ``states`` are the project states before each operation and after the last, as applying it
    left them (``Recorder.chain``): both runs go between them, as ``Migration.unapply`` would
    after building them again, operation by operation, from the state before the migration.

    When the migration runs in one transaction that can undo DDL, the rehearsal runs in an outer
    transaction that is rolled back: the database is left exactly as the migration left it, even
    when its reverse is a no-op and running it again would insert its rows twice.
    """
    from django.db import transaction
    from django.db.migrations.recorder import MigrationRecorder

    result: dict[str, Any] = {"statements": [], "error": None, "reapply_error": None}
    renders = reverse_renders(migration, states[0])
    if renders > MAX_RENDERS:
        result["skipped"] = (
            f"Django's reverse of its {len(migration.operations)} operations would render about "
            f"{renders:,} models (the project state of each operation, again), more than the "
            f"{MAX_RENDERS:,} the rehearsal allows itself"
        )
        return result
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


def reverse_renders(migration: Any, before: Any) -> int:
    """About how many models ``Migration.unapply`` renders: every operation but a RunSQL renders
    the project state it reverts to, the models before the migration and those it created so
    far. So a reverse costs operations x models: minutes for a thousand CreateModel."""
    from django.db.migrations.operations import CreateModel, RunSQL

    models = len(before.models)
    renders = 0
    for operation in migration.operations:
        models += isinstance(operation, CreateModel)
        renders += 0 if isinstance(operation, RunSQL) else models
    return renders


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
