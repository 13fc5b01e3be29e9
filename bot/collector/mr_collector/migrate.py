"""Render each new migration's SQL exactly as ``sqlmigrate`` does, then apply it, traced.

One loader serves every migration: ``sqlmigrate``'s (``replace_migrations=False``), unless a
migration depends on one that a squashed migration replaced and that is no longer on disk; that
graph does not load (``NodeNotFoundError``), so ``migrate``'s loader, which remaps such a
dependency to the squashed migration, plans, renders and applies instead (``loader``).
The ancestors of the new migrations are applied first, in graph order, so that each new one is
rendered against a database at the state it will meet in production: AlterField and RemoveField
look up real constraint names there. Each new migration is then applied for real, so the next
one's introspection sees its effect, and that run is what the tracer watches.

Statements are attributed to operations by standing in for each operation (``Step``) and for
the schema editor's ``execute`` while Django's own code does the work. Applying may run an
operation's statements in another order than rendering wrote them (a RenameModel with several
foreign keys pointing at the table: the order of related models differs between the two project
states), so each statement run is matched to its rendered twin by its SQL, written the way
``collect_sql`` writes it, within its operation; a statement with no twin is kept on its
operation (``executed_only``) with the SQL that ran.
"""

from __future__ import annotations

import copy
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import cache, edits, fault, operations, rollback, trace, twins
from .deadline import DEADLINE, OutOfTime
from .errors import CollectorError
from .progress import PROGRESS

Key = tuple[str, str]
NOT_RUN = (
    "not traced: migrate runs other SQL for this operation than sqlmigrate prints (sqlmigrate "
    "reads the database as it is before the migration, migrate as each operation leaves it); "
    "the JSON report lists what ran under the operation's executed_only"
)


class Recorder:
    """What one run of a migration did: statements, their operations, and traces.

    ``rendered`` lists the (operation, SQL) of the statements rendering wrote: applying files
    each trace under the one it ran.
    """

    def __init__(
        self,
        migration: Any,
        connection: Any,
        tracer: trace.Tracer | None = None,
        rendered: list[tuple[int | None, str]] | None = None,
        replay: list[Any] | None = None,
    ):
        self.migration = migration
        self.connection = connection
        self.tracer = tracer
        self.infos = [
            operations.describe_operation(index, operation)
            for index, operation in enumerate(migration.operations)
        ]
        self.operation: int | None = None
        self.owners: dict[int, int] = {}
        self.deferred: list[Any] = []
        self.statements: list[tuple[int | None, str]] = []
        self.collected: list[str] = []
        # The editor executing a statement of an operation, and that operation.
        self.running: tuple[Any, int | None] | None = None
        self.twins = twins.Twins(rendered or [])
        self.traces: dict[int, dict[str, Any]] = {}
        # What ran for a rendered statement whose SQL differs from it by a literal (twins.py).
        self.ran_as: dict[int, str] = {}
        self.executed_only: dict[int | None, list[dict[str, Any]]] = {}
        self.operation_traces: dict[int, list[dict[str, Any]]] = {}
        # The project states around each operation, to run them from instead of advancing a
        # state again (``chain``); the states each operation was run from, for such a chain.
        self.replay = replay
        self.from_states: dict[int, Any] = {}
        # Rendering's states around each operation (``rendered_chain``), when it has them all.
        self.rendered_states: list[Any] | None = None

    def chain(self, final: Any) -> list[Any]:
        """The states before each operation and ``final`` after the last, as applying the whole
        migration met them: what ``Migration.unapply`` would build again from the first."""
        return [self.from_states[index] for index in range(len(self.infos))] + [final]

    def rendered_chain(self, final: Any) -> list[Any] | None:
        """The states before each operation and ``final`` after the last, as rendering met
        them. Rendering skips an operation that is not SQL, so there is no such chain unless
        each of those leaves the state as it is (a RunPython)."""
        from django.db.migrations import RunPython

        states = [final]
        for index in reversed(range(len(self.infos))):
            state = self.from_states.get(index)
            if state is None:
                operation = self.migration.operations[index]
                if type(operation).state_forwards is not RunPython.state_forwards:
                    return None
                state = states[-1]
            states.append(state)
        return states[::-1]

    def threaded(self, state: Any) -> Any:
        """What to pass ``Migration.apply`` or ``unapply`` as the state before the migration:
        ``state``, or when replaying, a stand-in (``Replayed``)."""
        return state if self.replay is None else Replayed()

    def steps(self) -> Any:
        """A copy of the migration whose operations report to this recorder."""
        stand_in = copy.copy(self.migration)
        stand_in.operations = [
            Step(operation, index, self)
            for index, operation in enumerate(self.migration.operations)
        ]
        return stand_in

    def editor_class(self) -> type:
        recorder = self

        class RecordingEditor(self.connection.SchemaEditorClass):  # type: ignore[name-defined]
            def execute(self, sql: Any, params: Any = ()) -> None:
                operation = recorder.owners.get(id(sql), recorder.operation)
                # A RunPython may use the editor too; sqlmigrate never shows that SQL.
                recorder.running = None if recorder.in_python() else (self, operation)
                try:
                    super().execute(sql, params)
                finally:
                    recorder.running = None
                if self.collect_sql:
                    recorder.statements.append((operation, self.collected_sql[-1]))

        return RecordingEditor

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Django's execute wrapper: every query of the connection passes here while applying."""
        assert self.tracer is not None
        if self.running is None and not self.in_python():
            return execute(sql, params, many, context)

        returned: list[Any] = []

        # The MySQL probe runs the statement with ALGORITHM/LOCK clauses added: ``statement``.
        def run(statement: str = sql) -> int:
            returned.append(execute(statement, params, many, context))
            return int(context["cursor"].rowcount)

        in_transaction = self.connection.in_atomic_block or not self.connection.get_autocommit()
        statement = None
        if self.running is not None:
            editor, operation = self.running
            statement = (operation, as_collected(editor, sql, params))
        index = self.claim(statement)
        try:
            traced = self.tracer.trace(index, sql, run, in_transaction=in_transaction)
        except Exception as exc:
            self._keep(index, statement, trace.failed(exc))
            raise
        self._keep(index, statement, traced)
        return returned[-1]

    def claim(self, statement: tuple[int | None, str] | None) -> int | None:
        """The index of the rendered statement ``statement`` is (``twins``), if any."""
        index, exact = self.twins.claim(statement)
        if index is not None and statement is not None and not exact:
            self.ran_as[index] = statement[1]
        return index

    def in_python(self) -> bool:
        """Whether an operation that is not SQL (a RunPython) is running."""
        return self.operation is not None and not self.infos[self.operation]["reduces_to_sql"]

    def _keep(
        self, index: int | None, statement: tuple[int | None, str] | None, traced: dict[str, Any]
    ) -> None:
        if index is not None:
            self.traces[index] = traced
        elif statement is not None:
            operation, sql = statement
            self.executed_only.setdefault(operation, []).append({**traced, "executed_sql": sql})
        elif self.operation is not None:
            self.operation_traces.setdefault(self.operation, []).append(traced)

    def operation_started(self, index: int) -> None:
        self.operation = index
        PROGRESS.at_operation(index, len(self.infos), self.infos[index]["describe"])
        DEADLINE.check()

    def operation_finished(self, index: int, editor: Any, app_label: str, states: Any) -> None:
        self.operation = None
        for item in editor.deferred_sql:
            if id(item) not in self.owners:
                self.owners[id(item)] = index
                self.deferred.append(item)  # keeps the id from being reused
        if states is not None:
            operations.add_state_details(
                self.infos[index],
                self.migration.operations[index],
                app_label,
                *states,
                self.connection,
            )


class Replayed:
    """The project state ``Migration.apply`` and ``unapply`` thread through the operations while
    the recorder replays states: each operation runs between its replayed states (``Step``), so
    the copy Django makes of the threaded state before every operation has nothing to copy."""

    def clone(self) -> Replayed:
        return self


class Step:
    """Stands in for one operation: tells the recorder when it runs, and the states around it."""

    def __init__(self, operation: Any, index: int, recorder: Recorder) -> None:
        self._operation = operation
        self._index = index
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._operation, name)

    def __repr__(self) -> str:  # Django's errors name the operation ("... is not reversible")
        return repr(self._operation)

    def state_forwards(self, app_label: str, state: Any) -> None:
        if self._recorder.replay is None:
            self._operation.state_forwards(app_label, state)

    def _states(self, from_state: Any, to_state: Any) -> tuple[Any, Any]:
        """The states to run the operation between: the replayed ones, when replaying."""
        replay = self._recorder.replay
        if replay is None:
            return from_state, to_state
        return replay[self._index], replay[self._index + 1]

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        from_state, to_state = self._states(from_state, to_state)
        self._recorder.from_states[self._index] = from_state
        self._recorder.operation_started(self._index)
        states = None
        try:
            self._operation.database_forwards(app_label, schema_editor, from_state, to_state)
            states = (from_state, to_state) if schema_editor.collect_sql else None
        finally:
            self._recorder.operation_finished(self._index, schema_editor, app_label, states)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        to_state, from_state = self._states(to_state, from_state)
        self._recorder.operation_started(self._index)
        try:
            self._operation.database_backwards(app_label, schema_editor, from_state, to_state)
        finally:
            self._recorder.operation_finished(self._index, schema_editor, app_label, None)


def as_collected(editor: Any, sql: str, params: Any) -> str:
    """A query the editor runs, written as its ``collect_sql`` mode writes it for sqlmigrate.

    This is ``BaseDatabaseSchemaEditor.execute``'s own rendering, applied to what it passes the
    cursor, so a statement run and its rendered twin compare equal.
    """
    ending = "" if sql.rstrip().endswith(";") else ";"
    if params is not None:
        sql = sql % tuple(map(editor.quote_value, params))
    return sql + ending


class States:
    """The project states sqlmigrate renders against, as ``MigrationLoader.project_state``
    builds them: every ancestor's ``mutate_state`` in ``forwards_plan`` order.

    The next new migration's plan usually extends the last one's, so its state is the last one
    advanced by the migrations in between: the same mutations in the same order, hence the same
    state and the same SQL, without replaying the whole history for each new migration.
    """

    def __init__(self, loader: Any) -> None:
        self.loader = loader
        self.plan: list[Key] = []
        self.state: Any = None

    def before(self, key: Key) -> Any:
        """A fresh copy of the state ``sqlmigrate`` renders ``key`` against."""
        from django.db.migrations.state import ProjectState

        plan = self.loader.graph.forwards_plan(key)[:-1]
        if self.state is None or plan[: len(self.plan)] != self.plan:
            self.plan, self.state = [], ProjectState(real_apps=self.loader.unmigrated_apps)
        for node in plan[len(self.plan) :]:
            self.state = self.loader.graph.nodes[node].mutate_state(self.state, preserve=False)
        self.plan = plan
        return self.state.clone()


def render(state: Any, migration: Any, connection: Any) -> Recorder:
    """Collect the SQL as ``MigrationLoader.collect_sql`` does for sqlmigrate's one-item plan,
    from ``state``, the project state before the migration (``States.before``)."""
    recorder = Recorder(migration, connection)
    editor = recorder.editor_class()(connection, collect_sql=True, atomic=migration.atomic)
    with editor:
        final = recorder.steps().apply(state, editor, collect_sql=True)
    recorder.collected = editor.collected_sql
    recorder.rendered_states = recorder.rendered_chain(final)
    return recorder


def sqlmigrate_text(migration: Any, collected: list[str], connection: Any) -> str:
    """What ``manage.py sqlmigrate`` prints for the migration: BEGIN/COMMIT when atomic."""
    output = "\n".join(collected)
    if not output:
        return ""
    if migration.atomic and connection.features.can_rollback_ddl:
        output = "\n".join(
            [connection.ops.start_transaction_sql(), output, connection.ops.end_transaction_sql()]
        )
    return output if output.endswith("\n") else output + "\n"


def recorded(migration: Any) -> list[Key]:
    """The ``django_migrations`` rows ``migrate`` leaves for the migration: a squashed one is
    recorded as each migration it replaces (``MigrationExecutor.record_migration``) and then as
    itself (``check_replacements``, at the end of every ``migrate``). Django's loader counts a
    squashed migration applied only when every replaced row is there, so a database recorded
    otherwise cannot be migrated on by Django's own ``migrate``."""
    return [
        *(tuple(item) for item in migration.replaces or ()),
        (migration.app_label, migration.name),
    ]


def apply(state: Any, recorder: Recorder) -> Any:
    """Apply the migration as ``MigrationExecutor.apply_migration`` does, watched by the tracer,
    and record it as ``migrate`` does (``recorded``).

    Returns the project state after it, as the executor threads it through a plan (the last
    replayed one, when replaying).
    """
    from django.db.migrations.recorder import MigrationRecorder

    migration, connection, tracer = recorder.migration, recorder.connection, recorder.tracer
    if "apps" not in state.__dict__:
        state.apps  # noqa: B018 (rendered once before applying, as the executor does)
    editor = recorder.editor_class()(connection, atomic=migration.atomic)
    if tracer is None:
        with editor:
            state = recorder.steps().apply(recorder.threaded(state), editor)
    else:
        tracer.start_unit()
        with connection.execute_wrapper(recorder), editor:
            state = recorder.steps().apply(recorder.threaded(state), editor)
    history = MigrationRecorder(connection)
    for app_label, name in recorded(migration):
        history.record_applied(app_label, name)
    return state if recorder.replay is None else recorder.replay[-1]


def loader(connection: Any) -> Any:
    """``sqlmigrate``'s loader, else ``migrate``'s when only that one can resolve a dependency on
    a migration a squashed one replaced."""
    from django.db.migrations.exceptions import NodeNotFoundError
    from django.db.migrations.loader import MigrationLoader

    try:
        return MigrationLoader(connection, replace_migrations=False)
    except NodeNotFoundError:
        return MigrationLoader(connection)


class Collection:
    """Every new migration of one request, and the ancestors applied to reach them."""

    def __init__(
        self,
        connection: Any,
        repo_root: Path,
        tracer: trace.Tracer | None,
        *,
        rehearse: bool = True,
    ) -> None:
        from django.db.migrations.state import ProjectState

        self.connection = connection
        self.repo_root = repo_root
        self.tracer = tracer
        self.rehearse = rehearse  # migrate each new migration backwards and forwards (rollback)
        self.loader = loader(connection)
        self.states = States(self.loader)
        self.state = ProjectState(real_apps=self.loader.unmigrated_apps)
        # Whether ``state`` lags behind ``applied`` (after a restore), to be built when needed.
        self.stale = False
        self.applied: dict[Key, None] = {}  # in the order they were applied
        self.failed: set[Key] = set()
        self.migrations: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.base_state = cache.Outcome()
        # The base version of each edited migration whose operations changed (None: unknown).
        self.edited: dict[Key, Any] = {}
        # Where the review stopped to end before its time limit (``DEADLINE``), if it did.
        self.stopped_at: str | None = None

    def file_of(self, key: Key) -> str:
        """The migration's file, relative to the repository when it lies inside."""
        import sys

        migration = self.loader.disk_migrations.get(key) or self.loader.graph.nodes[key]
        path = Path(sys.modules[type(migration).__module__].__file__ or "")
        try:
            return str(path.resolve().relative_to(self.repo_root))
        except ValueError:
            return str(path)

    def keys_of(self, files: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
        """Map files to (app_label, name) through the modules Django loaded, not folder names."""
        by_path = {}
        for key in self.loader.disk_migrations:
            by_path[(self.repo_root / self.file_of(key)).resolve()] = key
        found: dict[Key, dict[str, Any]] = {}
        for item in files:
            if item["change"] == "deleted":
                continue
            key = by_path.get((self.repo_root / item["path"]).resolve())
            if key is None:
                self.errors.append(
                    CollectorError(
                        "Django's migration loader does not know this file",
                        file=item["path"],
                        hint="check that its app is in INSTALLED_APPS (or its folder in "
                        "MIGRATION_MODULES) and that it defines a Migration class",
                    ).to_dict()
                )
            elif key not in self.loader.graph.nodes:
                self.errors.append(
                    CollectorError(
                        f"{key[0]}.{key[1]} is replaced by a squashed migration, and another "
                        "migration depends on a replaced one that is gone: migrate applies the "
                        "squashed migration instead, so this one cannot be reviewed on its own",
                        file=item["path"],
                        hint="review the squashed migration, or restore the replaced migrations "
                        "that other migrations still depend on",
                    ).to_dict()
                )
            else:
                found[key] = item
        return found

    def plan(self, targets: Iterable[Key]) -> list[Key]:
        """The targets and their ancestors, each after everything it depends on."""
        plan: dict[Key, None] = {}
        for target in sorted(targets):
            plan.update(dict.fromkeys(self.loader.graph.forwards_plan(target)))
        return list(plan)

    def run(self, files: list[dict[str, Any]], snapshots: cache.BaseCache | None = None) -> None:
        new = self.keys_of(files)
        plan = self.plan(new)
        base = self.base_of(plan, new)
        self.reach_base(base, snapshots)
        rest = [key for key in plan if key not in base]
        counts = {True: len(new), False: len(rest) - len(new)}
        seen = {True: 0, False: 0}
        for key in rest:
            blocker = self.failed_ancestor(key)
            is_new = key in new
            seen[is_new] += 1
            kind = "new migration" if is_new else "earlier migration"
            if self.stopped_at is not None:
                if is_new:
                    self.migrations.append(self.not_reached(key, new[key]))
                continue
            PROGRESS.at_migration(f"{key[0]}.{key[1]} ({kind} {seen[is_new]} of {counts[is_new]})")
            if is_new:
                self.migrations.append(self.collect_one(key, new[key], blocker))
            elif blocker is None and not self.already_applied(key):
                self.apply_ancestor(key)
        self.compare_end_schemas()

    def stop(self, migration: Any, during: str) -> tuple[str, str]:
        """Stop the review where it is (``OutOfTime``): what to say of the migration, and hint."""
        self.stopped_at = PROGRESS.position
        return DEADLINE.message(self.stopped_at, len(migration.operations), during)

    def not_reached(self, key: Key, item: dict[str, Any]) -> dict[str, Any]:
        """A new migration after the one the review stopped at."""
        return _failed(
            self.unreviewed(key, item),
            f"not reviewed: the review stopped before it, at {self.stopped_at}, to end before "
            "its time limit",
            "review the migration it stopped at first (its own error says how), or allow more "
            "time with --timeout (the action's timeout input)",
            detail=None,
        )

    def compare_end_schemas(self) -> None:
        """Whether the edits of merged migrations, together, leave every database with the
        same schema at head (``edits.same_end_schema``), on each edited migration."""
        if not self.edited:
            return
        same = None
        if None not in self.edited.values():
            try:
                same = edits.same_end_schema(self.edited)
            except Exception:  # a history that does not replay is no proof either way
                same = None
        for result in self.migrations:
            if (result["app_label"], result["name"]) in self.edited:
                result["same_end_schema"] = same

    def base_of(self, plan: list[Key], new: Iterable[Key]) -> list[Key]:
        """What the new migrations stand on: the planned migrations that are not new and need
        no new one. Production has them applied already, so they are applied first."""
        above: set[Key] = set(new)
        for key in plan:
            if any(parent.key in above for parent in self.loader.graph.node_map[key].parents):
                above.add(key)
        return [key for key in plan if key not in above]

    def reach_base(self, base: list[Key], snapshots: cache.BaseCache | None) -> None:
        """Bring the database to the base state: restored from the cache where it holds some
        of it, the rest applied; then saved for the next run."""
        from django.db.migrations.recorder import MigrationRecorder

        started = time.monotonic()
        outcome = self.base_state
        needed: dict[Key, str] = {}
        if snapshots is not None:
            needed = cache.digests((key, self.loader.graph.nodes[key]) for key in base)
            rows = {key: recorded(self.loader.graph.nodes[key]) for key in base}
            restored, outcome.cache = snapshots.restore(needed, self.connection, rows)
            self.applied = dict.fromkeys(key for key in base if key in restored)
            outcome.restored = len(self.applied)
            self.stale = bool(self.applied)
        MigrationRecorder(self.connection).ensure_schema()
        for number, key in enumerate(base, 1):
            if key in self.applied or self.failed_ancestor(key) or self.already_applied(key):
                continue
            PROGRESS.at_migration(
                f"{key[0]}.{key[1]} (earlier migration, applied first, {number} of {len(base)})"
            )
            self.apply_ancestor(key)
            outcome.applied += key in self.applied
        outcome.migrations = len(self.applied)
        if outcome.cache == "hit" and outcome.applied:
            outcome.cache = "prefix"
        # However the base was reached, the new migrations start from the same state.
        self.stale = True
        outcome.seconds = time.monotonic() - started
        if snapshots is not None:
            if outcome.applied and not self.failed:
                outcome.saved = snapshots.save({key: needed[key] for key in self.applied})
            outcome.notes += snapshots.notes

    def failed_ancestor(self, key: Key) -> Key | None:
        if not self.failed:
            return None
        return next((k for k in self.loader.graph.forwards_plan(key) if k in self.failed), None)

    def already_applied(self, key: Key) -> bool:
        """A squashed migration and the ones it replaces are the same change: apply it once."""
        replaced = [tuple(item) for item in self.loader.graph.nodes[key].replaces or ()]
        if replaced and all(item in self.applied for item in replaced):
            return True
        return any(
            squash_key in self.applied and key in [tuple(item) for item in squash.replaces]
            for squash_key, squash in self.loader.replacements.items()
        )

    def apply_ancestor(self, key: Key) -> None:
        if self.stale:
            self.rebuild_state()
        migration = self.loader.graph.nodes[key]
        try:
            self.state = apply(self.state, Recorder(migration, self.connection))
        except OutOfTime:
            self.fail(key)
            message, hint = self.stop(migration, "it was applied (needed by a new migration)")
            self.errors.append(
                CollectorError(
                    f"{key[0]}.{key[1]} was not applied: {message}",
                    file=self.file_of(key),
                    hint=hint,
                ).to_dict()
            )
        except Exception as exc:
            self.fail(key)
            ours = fault.scratch_fault(exc, self.connection)
            what = "the scratch database failed while applying" if ours else "applying"
            self.errors.append(
                CollectorError(
                    f"{what} {key[0]}.{key[1]} (needed by a new migration)"
                    + ("" if ours else " failed on the scratch database")
                    + f": {type(exc).__name__}: {exc}",
                    file=self.file_of(key),
                    hint=fault.HINT
                    if ours
                    else "the new migrations that depend on it could not be reviewed; it fails "
                    "on an empty database at the state of its dependencies",
                    detail=traceback.format_exc(),
                ).to_dict()
            )
        else:
            self.applied[key] = None

    def fail(self, key: Key) -> None:
        """Mark ``key`` failed, and rebuild the state it may have left half-advanced."""
        self.failed.add(key)
        self.rebuild_state()

    def rebuild_state(self) -> None:
        """The project state of the applied migrations, built anew (not rendered yet)."""
        from django.db.migrations.state import ProjectState

        self.state = ProjectState(real_apps=self.loader.unmigrated_apps)
        for applied in self.applied:
            self.loader.graph.nodes[applied].mutate_state(self.state, preserve=False)
        self.stale = False

    def state_before(self, key: Key, rendered: Recorder) -> Any:
        """The state to apply ``key`` from: when the applied migrations are exactly the ones
        sqlmigrate rendered it after, that state again (the one rendering its first operation
        started from, already rendered), else the applied ones' rebuilt."""
        if self.stale:
            if set(self.applied) == set(self.states.plan):
                first = rendered.from_states.get(0)
                self.state = self.states.before(key) if first is None else first
                self.stale = False
            else:
                self.rebuild_state()
        return self.state

    def unreviewed(self, key: Key, item: dict[str, Any]) -> dict[str, Any]:
        """The migration's result before it is reviewed: what its file says."""
        migration = self.loader.graph.nodes[key]
        return {
            "app_label": key[0],
            "name": key[1],
            "file": item["path"],
            "old_file": item.get("old_path"),
            "change": item["change"],
            "atomic": bool(migration.atomic),
            "dependencies": [list(dependency) for dependency in migration.dependencies],
            "operations": [
                operations.describe_operation(index, operation)
                for index, operation in enumerate(migration.operations)
            ],
            "statements": [],
            "sqlmigrate": "",
            "error": None,
        }

    def collect_one(self, key: Key, item: dict[str, Any], blocker: Key | None) -> dict[str, Any]:
        migration = self.loader.graph.nodes[key]
        result = self.unreviewed(key, item)
        if blocker is not None:
            return _failed(
                result,
                f"not reviewed: it depends on {blocker[0]}.{blocker[1]}, which failed",
                "fix that migration first; this one is reviewed once it applies",
                detail=None,
            )
        try:
            rendered = render(self.states.before(key), migration, self.connection)
        except OutOfTime:
            self.fail(key)
            message, hint = self.stop(migration, "its SQL was rendered")
            return _failed(result, f"not reviewed: {message}", hint, detail=None)
        except Exception as exc:
            self.fail(key)
            return _failure(
                result,
                exc,
                self.connection,
                during="its SQL was rendered",
                message="rendering its SQL failed",
                hint="`manage.py sqlmigrate` fails the same way on a database at the state of "
                "its dependencies",
            )
        result["operations"] = rendered.infos
        if item["change"] == "modified":
            base = edits.base_version(migration, item.get("base_source"))
            result["same_as_base"] = None if base is None else edits.same_as_base(migration, base)
            if not result["same_as_base"]:
                self.edited[key] = base
        result["sqlmigrate"] = sqlmigrate_text(migration, rendered.collected, self.connection)
        for index, (operation, sql) in enumerate(rendered.statements):
            result["statements"].append(
                {"index": index, "sql": sql, "operation": operation, "trace": None}
            )
            if operation is not None:
                rendered.infos[operation]["statements"].append(index)
        state = self.state_before(key, rendered)
        # From the state rendering started from, applying meets the states rendering met.
        replay = rendered.rendered_states
        if replay is not None and replay[0] is not state:
            replay = None
        recorder = Recorder(migration, self.connection, self.tracer, rendered.statements, replay)
        started = time.monotonic()
        try:
            self.state = apply(state, recorder)
        except OutOfTime:
            self.fail(key)
            _attach_traces(result, recorder, finished=False)
            message, hint = self.stop(migration, "it was applied")
            return _failed(result, f"not reviewed: {message}", hint, detail=None)
        except Exception as exc:
            self.fail(key)
            _attach_traces(result, recorder, finished=False)
            return _failure(
                result,
                exc,
                self.connection,
                during="it was applied",
                message="applying it to the scratch database failed",
                hint="it fails on an empty database at the state of its dependencies, so it "
                "would fail in production too, unless it relies on data or objects that "
                "migrations do not create",
            )
        self.applied[key] = None
        _attach_traces(result, recorder, finished=True)
        if self.rehearse:
            try:
                result["rollback"] = rollback.rehearse(
                    migration,
                    self.connection,
                    self.tracer,
                    recorder.chain(self.state),
                    item["path"],
                    applying=time.monotonic() - started,
                )
            except OutOfTime:
                message, _ = self.stop(migration, "its rollback was rehearsed")
                result["rollback"] = rollback.skipped(f"not run to its end: {message}")
        return result


def _failure(
    result: dict[str, Any],
    exc: Exception,
    connection: Any,
    *,
    during: str,
    message: str,
    hint: str,
) -> dict[str, Any]:
    """The migration's error for ``exc``, unless it was the scratch database that failed."""
    error = f"{type(exc).__name__}: {exc}"
    if fault.scratch_fault(exc, connection):
        return _failed(result, f"the scratch database failed while {during}: {error}", fault.HINT)
    return _failed(result, f"{message}: {error}", hint)


def _failed(
    result: dict[str, Any], message: str, hint: str, *, detail: str | None = ""
) -> dict[str, Any]:
    result["error"] = CollectorError(
        message,
        file=result["file"],
        hint=hint,
        detail=traceback.format_exc() if detail == "" else detail,
    ).to_dict()
    return result


def _attach_traces(result: dict[str, Any], recorder: Recorder, *, finished: bool) -> None:
    """Put each statement's trace on it, each RunPython's on its operation, and each statement
    run that sqlmigrate does not show on the operation that ran it."""
    if recorder.tracer is None:
        return
    statements = result["statements"]
    for index, traced in recorder.traces.items():
        statements[index]["trace"] = traced
    for index, sql in recorder.ran_as.items():
        statements[index]["executed_sql"] = sql
    for statement in statements if finished else []:
        if statement["trace"] is None:
            statement["trace"] = trace.static_only(NOT_RUN)
    for index, info in enumerate(result["operations"]):
        info["executed_only"] = recorder.executed_only.get(index, [])
        traces = recorder.operation_traces.get(index, [])
        if not info["reduces_to_sql"] and (traces or finished):
            info["trace"] = trace.merge(traces)
