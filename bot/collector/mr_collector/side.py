"""One side of a verification: the project in one tree, on one scratch database, one step.

``verify`` runs the sides of each tree in a process of their own, because the trees it compares
hold different migration modules and model files, and Django loads a project once per process:
a worker (``serve``) loads its tree's project once and then runs the sides it is sent, one after
another, each on the database it names. A side is one of:

- ``before``: apply what the migration under review depends on (the starting state), forwards
  only, on a database that is empty, moved forward by the previous alternative, or restored
  from the review's base-state snapshot (``cache_dir``: any snapshot that holds neither the
  migration nor anything depending on it);
- ``original``: from there, apply that migration, traced;
- ``alternative``: in the tree with the alternative's files swapped in, check that Django loads
  the graph (no conflicts, every dependency resolves) and that ``makemigrations`` finds nothing
  to do, then apply the alternative's migrations, traced (and, with ``full``, the rest);
- ``expected``: in the tree with only the edited models, apply every migration and then the
  ones ``makemigrations`` would write for the edits: what Django creates for the edited models.

Each prints the schema and state it leaves (``snapshot``), its traces and what it found wrong.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from . import cache, migrate, project, snapshot, trace
from .errors import CollectorError

Key = tuple[str, str]


class Tree:
    """The project of one tree, loaded in this process by its first side; the next sides of the
    same tree reuse it, each pointed at its own database."""

    def __init__(self) -> None:
        self.loaded: tuple[Path, str, str] | None = None  # the tree, its settings, its ENGINE

    def run(self, request: dict[str, Any], output: dict[str, Any]) -> None:
        if request.get("mode") != "side":
            raise CollectorError(f"a side worker runs sides only, not {request.get('mode')!r}")
        tree = Path(request["project_dir"]).resolve()
        if self.loaded is None:
            self.loaded = (tree, *self.load(tree, request))
        elif self.loaded[0] != tree:
            raise CollectorError(f"this worker serves {self.loaded[0]}, not {tree}")
        else:
            project.repoint_default(request["url"], self.loaded[2])
        from django.db import connections

        try:
            Side(request, *self.loaded).run(output)
        finally:
            connections.close_all()

    def load(self, tree: Path, request: dict[str, Any]) -> tuple[str, str]:
        django_root = project.find_django_root(tree)
        module = project.settings_module(request.get("settings"), django_root)
        django = project.import_settings(module, django_root)
        engine, vendor = project.default_engine(None)
        if vendor != "postgresql":
            raise CollectorError("alternatives are verified on PostgreSQL only")
        project.point_default_at(request["url"], engine, vendor)
        django.setup()
        return module, engine


class Side:
    def __init__(self, request: dict[str, Any], tree: Path, settings: str, engine: str) -> None:
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        self.request = request
        self.tree = tree
        self.settings = settings
        self.engine = engine
        self.connection = connection
        try:
            self.executor = MigrationExecutor(connection)
        except Exception as exc:
            raise CollectorError(
                f"Django cannot load the migration graph: {type(exc).__name__}: {exc}",
                detail=traceback.format_exc(),
            ) from exc
        self.loader = self.executor.loader
        self.key: Key = tuple(request["migration"])  # type: ignore[assignment]

    def run(self, output: dict[str, Any]) -> None:
        action = self.request["action"]
        if action == "before":
            self.before()
            return
        if self.request.get("pending", True):
            output["pending"] = self.pending()
        if action == "original":
            output["traces"] = self.apply_traced([self.key])
            nodes = [self.key]
        elif action == "alternative":
            conflicts = self.loader.detect_conflicts()
            if conflicts:
                output["problems"].append(
                    "the graph has conflicts: "
                    + "; ".join(f"{app}: {', '.join(names)}" for app, names in conflicts.items())
                )
            nodes = self.keys_of(self.request["files"])
            output["traces"] = self.apply_traced(nodes)
        else:  # expected
            nodes = []
        if self.request.get("full") or action == "expected":  # compare the whole graph
            self.executor.loader.build_graph()
            self.executor.migrate(self.loader.graph.leaf_nodes())
            if action == "expected":
                self.apply_edits()
            nodes = self.loader.graph.leaf_nodes()
        output["schema"] = snapshot.schema(self.connection.cursor())
        output["state"] = snapshot.state(self.loader.project_state(nodes, at_end=True))

    def before(self) -> None:
        """Apply what the migration depends on that is not applied yet, forwards only: what an
        earlier alternative's original or the snapshot left applied stays (``migrate`` to the
        parents would unapply their later siblings in the same app)."""
        parents = [parent.key for parent in self.loader.graph.node_map[self.key].parents]
        if self.restore():
            self.loader.build_graph()  # what the snapshot holds is applied now
        graph, applied = self.loader.graph, self.loader.applied_migrations
        plan: dict[Key, None] = {}
        for parent in parents:
            plan.update(dict.fromkeys(k for k in graph.forwards_plan(parent) if k not in applied))
        self.executor.migrate(parents, plan=[(graph.nodes[key], False) for key in plan])

    def restore(self) -> bool:
        """Restore a base-state snapshot of the review with nothing in it from the migration on;
        whether one was restored."""
        from django import get_version

        version = (self.connection.pg_version, None)
        snapshots, _ = cache.open_cache(
            self.request.get("cache_dir"),
            vendor="postgresql",
            url=self.request["url"],
            bin_dir=self.request.get("pg_bin"),
            fingerprint=cache.fingerprint(
                version, get_version(), self.engine, self.settings, "default"
            ),
        )
        if snapshots is None:
            return False
        later = set(self.loader.graph.backwards_plan(self.key))
        migrations = {
            key: migration
            for key, migration in self.loader.disk_migrations.items()
            if key not in later
        }
        rows = {key: migrate.recorded(migration) for key, migration in migrations.items()}
        restored, _ = snapshots.restore(cache.digests(migrations.items()), self.connection, rows)
        return bool(restored)

    def pending(self) -> list[str]:
        """What ``makemigrations --check`` would write: the models and the graph disagree."""
        return [
            f"{migration.app_label}: {operation.describe()}"
            for migration in self.changes()
            for operation in migration.operations
        ]

    def changes(self) -> list[Any]:
        from django.apps import apps
        from django.db.migrations.autodetector import MigrationAutodetector
        from django.db.migrations.questioner import NonInteractiveMigrationQuestioner
        from django.db.migrations.state import ProjectState

        detector = MigrationAutodetector(
            self.loader.project_state(),
            ProjectState.from_apps(apps),
            NonInteractiveMigrationQuestioner(dry_run=True),
        )
        found = detector.changes(graph=self.loader.graph)
        return [migration for app in sorted(found) for migration in found[app]]

    def apply_edits(self) -> None:
        """Apply, after the whole graph, the migrations ``makemigrations`` writes for the edits."""
        state = self.loader.project_state()
        for migration in self.changes():
            with self.connection.schema_editor(atomic=migration.atomic) as editor:
                state = migration.apply(state, editor)

    def keys_of(self, files: list[str]) -> list[Key]:
        """The migrations of the alternative's files, found through the modules Django loaded."""
        by_path = {}
        for key, migration in self.loader.disk_migrations.items():
            module = sys.modules[type(migration).__module__]
            by_path[Path(module.__file__ or "").resolve()] = key
        keys = []
        for path in files:
            key = by_path.get((self.tree / path).resolve())
            if key is None:
                raise CollectorError(
                    "Django's migration loader does not load this file of the alternative",
                    file=path,
                )
            keys.append(key)
        return keys

    def apply_traced(self, nodes: list[Key]) -> list[dict[str, Any]]:
        """Apply ``nodes`` and what they need that is not applied yet, in the order ``migrate``
        would; return the traces of the statements of ``nodes``."""
        plan = [migration for migration, _ in self.executor.migration_plan(nodes)]
        if not plan:
            return []
        tracer = trace.Tracer(self.connection.connection, self.request["url"])
        traces: list[dict[str, Any]] = []
        try:
            state = self.loader.project_state((plan[0].app_label, plan[0].name), at_end=False)
            for migration in plan:
                key = (migration.app_label, migration.name)
                recorder = Recorder(migration, self.connection, tracer)
                try:
                    state = migrate.apply(state, recorder)
                finally:
                    traces += _traces(key, recorder) if key in nodes else []
        finally:
            tracer.close()
        return traces


class Recorder(migrate.Recorder):
    """Also traces the RunPython inside a SeparateDatabaseAndState, as alternatives write their
    batched fills: every query of such an operation is traced, like a RunPython's."""

    def in_python(self) -> bool:
        if self.operation is None:
            return False
        operation = self.migration.operations[self.operation]
        inner = getattr(operation, "database_operations", [])
        return super().in_python() or any(not op.reduces_to_sql for op in inner)


def _traces(key: Key, recorder: migrate.Recorder) -> list[dict[str, Any]]:
    found = []
    for operation, items in recorder.executed_only.items():
        for item in items:
            found.append({"migration": key[1], "operation": operation, **item})
    for operation, items in recorder.operation_traces.items():
        for item in items:
            found.append({"migration": key[1], "operation": operation, **item})
    return found
