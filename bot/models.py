"""The report: the contract between the pipeline's stages and the artifact of fork-safe runs.

Each stage reads the models the previous one produced and fills in its own part:

    diff     -> DiffResult
    collect  -> CollectorOutput   (JSON printed by the collector process, validated here)
    classify -> StatementReview.static / .traced / .final, Finding
    estimate -> Impact
    render   -> Markdown from a Report

A Report serialised with ``model_dump_json()`` is what ``--format json`` prints and what the
``comment`` mode of the action reads back, so every field here is part of a public format:
add fields, never repurpose them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class Risk(StrEnum):
    """How much a statement can hurt a live database, ordered from harmless to outage."""

    safe = "safe"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)

    # str's own comparisons would order the names alphabetically; compare by rank instead.
    def __lt__(self, other: object) -> bool:
        return self.rank < Risk(other).rank if isinstance(other, str) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= Risk(other).rank if isinstance(other, str) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > Risk(other).rank if isinstance(other, str) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= Risk(other).rank if isinstance(other, str) else NotImplemented

    __hash__ = str.__hash__

    @classmethod
    def worst(cls, risks: list[Risk] | tuple[Risk, ...]) -> Risk:
        return max(risks, default=cls.safe)


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- diff -----------------------------------------------------------------------------------


class ChangeKind(StrEnum):
    added = "added"
    modified = "modified"
    deleted = "deleted"
    renamed = "renamed"


class MigrationFile(Model):
    """One migration file the pull request touches."""

    path: str = Field(description="Repository-relative path at head (at base if deleted).")
    old_path: str | None = Field(None, description="Path at base, for renames.")
    change: ChangeKind
    app_label: str | None = Field(None, description="Filled from Django's loader by collect.")
    name: str | None = Field(None, description="Migration name, filled by collect.")


class DiffResult(Model):
    repo: str
    base_ref: str
    head_ref: str
    base_sha: str
    head_sha: str
    merge_base: str
    files: list[MigrationFile]


# --- collect --------------------------------------------------------------------------------


class ToolError(Model):
    """A failure of the tool or of the input. Never rendered as "no risk found"."""

    stage: str = Field(description="diff, collect, classify, estimate, render or publish.")
    message: str
    file: str | None = None
    hint: str | None = Field(None, description="What the user can do about it.")
    detail: str | None = Field(None, description="Traceback or tool output, for the report only.")


class FieldInfo(Model):
    """The attributes of a model field that decide what SQL a migration emits."""

    type: str = Field(description="Dotted path of the field class: django.db.models.CharField.")
    db_type: str | None = None
    null: bool = False
    has_default: bool = False
    default: str | None = Field(None, description="repr() of the Python-side default.")
    db_default: str | None = Field(None, description="repr() of db_default, when set.")
    unique: bool = False
    db_index: bool = False
    primary_key: bool = False
    relation: str | None = Field(None, description="Target model as app_label.ModelName.")
    on_delete: str | None = None
    db_constraint: bool | None = None


class OperationInfo(Model):
    index: int
    kind: str = Field(description="Operation class name, e.g. AddField.")
    path: str = Field(description="Dotted path of the operation class.")
    describe: str
    model: str | None = Field(None, description="model_name the operation works on.")
    table: str | None = Field(None, description="db_table of that model, when known.")
    field_name: str | None = None
    field: FieldInfo | None = None
    old_field: FieldInfo | None = Field(
        None, description="The field before the operation (AlterField, RenameField, RemoveField)."
    )
    reduces_to_sql: bool = True
    reversible: bool = True
    code: str | None = Field(None, description="RunSQL text or RunPython function name.")
    statements: list[int] = Field(
        default_factory=list, description="Indexes into the migration's statements."
    )
    trace: Trace | None = Field(
        None, description="What an operation with no SQL (RunPython) did when it ran."
    )
    executed_only: list[Trace] = Field(
        default_factory=list,
        description="Statements applying ran for it that sqlmigrate does not show (introspection "
        "sees the database as each operation leaves it), each traced, in Trace.executed_sql.",
    )


class TracedLock(Model):
    relation: str
    relkind: str = Field(description="table, index, sequence, toast, view, ...")
    mode: str = Field(description="PostgreSQL lock mode name, e.g. AccessExclusiveLock.")
    granted: bool = True
    created: bool = Field(False, description="The relation was created in this migration.")
    since_statement: int | None = Field(
        None, description="Index of the statement that first took this lock, when held from before."
    )


class TracedConstraint(Model):
    name: str
    table: str
    type: str = Field(description="pg_constraint.contype spelled out: check, foreign_key...")
    validated: bool


class Trace(Model):
    """What PostgreSQL reported while the statement ran on the scratch database."""

    method: Literal["transaction", "second-session", "probe", "static-only"] = Field(
        description="probe: MySQL/MariaDB accepted the statement with the ALGORITHM and LOCK "
        "given here (the most efficient it allows), which shows what it does by default."
    )
    algorithm: str | None = Field(
        None, description="probe: the ALGORITHM the server accepted (INSTANT, NOCOPY, ...)."
    )
    locks: list[TracedLock] = Field(default_factory=list, description="Taken by this statement.")
    held: list[TracedLock] = Field(
        default_factory=list, description="Taken by earlier statements and still held."
    )
    rewritten: list[str] = Field(
        default_factory=list, description="Pre-existing relations that got a new relfilenode."
    )
    scanned: list[str] = Field(
        default_factory=list,
        description="Pre-existing tables read in full (sequential scans counted by pg_stat).",
    )
    constraints: list[TracedConstraint] = Field(default_factory=list)
    not_null_changed: list[str] = Field(default_factory=list, description="table.column: a -> b")
    rows: int | None = Field(None, description="Rows touched (DML).")
    queries: int = Field(1, description="Queries executed for this statement (RunPython > 1).")
    lock_timeout: str | None = None
    statement_timeout: str | None = None
    duration_ms: float | None = None
    note: str | None = Field(None, description="Why the trace is partial or missing.")
    error: str | None = Field(
        None, description="The scratch database's error, when the statement failed there."
    )
    executed_sql: str | None = Field(
        None, description="The SQL run, for a statement in OperationInfo.executed_only."
    )


class CollectedStatement(Model):
    index: int
    sql: str
    operation: int | None = Field(None, description="Index of the operation that emitted it.")
    trace: Trace | None = None
    executed_sql: str | None = Field(
        None,
        description="What migrate ran for it, when that differs from the rendered SQL only by a "
        "literal: a callable default (uuid.uuid4, timezone.now) is evaluated again when applying.",
    )


class Rollback(Model):
    """The rollback rehearsal: right after it was applied, the migration was migrated backwards
    on the scratch database, traced, then forwards again."""

    statements: list[CollectedStatement] = Field(
        default_factory=list,
        description="What the reverse ran, in order, each traced (empty with --no-trace).",
    )
    error: ToolError | None = Field(
        None, description="The reverse raised, or an operation is irreversible."
    )
    reapply_error: ToolError | None = Field(
        None, description="Applying it again after the reverse failed."
    )
    skipped: str | None = Field(None, description="Why it was not rehearsed, when it was not.")


class CollectedMigration(Model):
    app_label: str
    name: str
    file: str = Field(description="Path relative to the repository root.")
    change: ChangeKind
    atomic: bool
    dependencies: list[tuple[str, str]] = Field(default_factory=list)
    operations: list[OperationInfo] = Field(default_factory=list)
    statements: list[CollectedStatement] = Field(default_factory=list)
    sqlmigrate: str = Field("", description="What sqlmigrate prints, BEGIN/COMMIT included.")
    error: ToolError | None = None
    rollback: Rollback | None = Field(None, description="None when not rehearsed.")
    database: str = Field(
        "default", description="The DATABASES alias it was rendered and applied on."
    )
    same_as_base: bool | None = Field(
        None,
        description="A modified file: its version at the merge-base has the same operations, "
        "dependencies and atomic (deconstructed, functions by their code): the edit is only "
        "formatting or imports. None: not modified, or the base version does not load.",
    )
    same_end_schema: bool | None = Field(
        None,
        description="A modified file whose operations changed: the history at head, run with "
        "the base versions of every migration the change edits, ends with the same schema "
        "(tables, columns, indexes, constraints), so databases that applied the old versions "
        "agree with fresh ones. None: not such a file, or it can't be told (RunSQL or RunPython "
        "edited, dependencies changed, a base version that does not load).",
    )
    old_file: str | None = Field(None, description="The path at base, for a renamed file.")


class Conflict(Model):
    """An app with several leaf migrations at head: ``migrate`` refuses to run."""

    app_label: str
    leaves: list[str] = Field(description="The leaf migrations' names.")
    files: list[str | None] = Field(default_factory=list, description="Each leaf's file.")


class MissingMigration(Model):
    """A migration ``makemigrations --check --dry-run`` would write at head."""

    app_label: str
    name: str
    path: str = Field(description="Where makemigrations would write it, repository-relative.")
    models_file: str | None = Field(None, description="The app's models module.")
    operations: list[str] = Field(default_factory=list, description="Each operation's describe().")
    changes_schema: bool = Field(
        True,
        description="Whether it changes the database schema; False: only what Django's state "
        "keeps (choices, help texts, model options), so it has no SQL.",
    )


class BaseState(Model):
    """How the scratch database reached the base state the new migrations are applied on."""

    migrations: int = Field(description="Base migrations in the database before the new ones.")
    restored: int = Field(0, description="Of those, how many came from a cached snapshot.")
    applied: int = Field(0, description="Of those, how many were applied in this run.")
    seconds: float = Field(description="Restoring plus applying, saving excluded.")
    cache: Literal["off", "miss", "hit", "prefix", "fallback"] = Field(
        "off",
        description="off: no cache-dir; miss: no snapshot fitted; hit: one held the whole base; "
        "prefix: one held part of it; fallback: the one found could not be used.",
    )
    saved: bool = Field(False, description="Whether this run saved a snapshot for the next.")
    notes: list[str] = Field(default_factory=list, description="Why the cache did not help.")


class CollectorOutput(Model):
    """What the collector process prints on stdout (JSON)."""

    django_version: str
    python_version: str
    backend: str = Field(description="Django backend vendor: postgresql, mysql, sqlite.")
    server_version_num: int | None = None
    server_version: str | None = Field(
        None, description='MySQL/MariaDB and SQLite: the server\'s version, "10.11.19-MariaDB".'
    )
    database: str = Field(description="Where the SQL was rendered: embedded cluster or URL host.")
    migrations: list[CollectedMigration] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    missing: list[MissingMigration] = Field(
        default_factory=list, description="What makemigrations --check would write at head."
    )
    partitioned: list[str] = Field(
        default_factory=list,
        description="PostgreSQL: partitioned parent tables once the new migrations ran.",
    )
    errors: list[ToolError] = Field(default_factory=list)
    base_state: BaseState | None = None
    stopped_at: str | None = Field(
        None,
        description="Where the collector stopped to end before its time limit, if it did: the "
        "migrations from there on are not reviewed (each one's error says so).",
    )


# --- classify -------------------------------------------------------------------------------

Blocks = Literal["none", "writes", "reads"]
"""What a lock stops other sessions from doing. "reads" means reads and writes."""


class Lock(Model):
    relation: str
    mode: str = Field(description="PostgreSQL lock mode name, e.g. ShareLock.")
    blocks: Blocks


WorkKind = Literal["catalog", "scan", "rewrite", "index", "index-concurrent", "dml", "unknown"]


class Work(Model):
    """What a statement does, as far as its duration is concerned: the classifier knows it, the
    estimate sizes it."""

    kind: WorkKind
    table: str | None = Field(None, description="The relation its SQL names.")
    source: str | None = Field(None, description="INSERT ... SELECT: where the rows come from.")
    verb: str = Field("", description='DML: "updates", "deletes" or "inserts".')
    where: bool = Field(False, description="DML with a WHERE clause: some rows, maybe not all.")
    rows: int | None = Field(None, description="INSERT ... VALUES: the rows its SQL holds.")
    creates: str | None = Field(None, description="CREATE TABLE: the new, empty table.")


class Verdict(Model):
    """A classification of one statement, static or traced."""

    source: Literal["static", "traced"]
    locks: list[Lock] = Field(default_factory=list)
    blocks: Blocks = "none"
    rewrite: bool = False
    scan: bool = False
    risk: Risk = Risk.safe
    rules: list[str] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="What the verdict assumed or could not know."
    )
    work: Work | None = Field(None, description="The kind of work, for the estimate.")


class AlternativeFile(Model):
    """One complete file of a safer alternative, to save at ``path`` as it is."""

    path: str = Field(description="Repository-relative path the file is written to.")
    source: str = Field(description="The whole file, ready to save: no placeholders.")
    release: int = Field(
        1, description="The deploy it ships with: 2 means after release 1 runs everywhere."
    )
    replaces: str | None = Field(
        None, description="The path of the file it takes the place of (same migration name)."
    )


class Alternative(Model):
    """The safer way to write one migration, as files, and whether the scratch database agreed.

    One alternative covers the whole migration: every finding on it points to the same one.
    """

    summary: str = Field(description="Markdown, one paragraph: what the files do differently.")
    replaces: list[str] = Field(
        default_factory=list, description="app_label.name of the migrations the files replace."
    )
    files: list[AlternativeFile] = Field(default_factory=list)
    verified: bool = Field(
        False,
        description="Applied on the scratch database from the state before the migration: same "
        "schema and project state as the original, and no table-sized work under the lock the "
        "finding was about.",
    )
    verification: str | None = Field(
        None, description="What verification found: the one-line proof, or why it failed."
    )
    guidance: str | None = Field(
        None, description="Markdown: the idea in words, for a case no file recipe covers."
    )


class Finding(Model):
    """One rule hit: what is wrong, why it hurts, and the safer steps as code."""

    rule: str
    risk: Risk
    title: str
    message: str
    safer: str | None = Field(None, description="Markdown: the safer steps, with Django code.")
    migration: str | None = Field(None, description="app_label.name")
    statement: int | None = None
    operation: int | None = Field(
        None, description="Index of the operation it is about, into the migration's operations."
    )
    file: str | None = None
    line: int | None = None
    ignored: bool = False
    ignore_reason: str | None = None
    ignore_source: str | None = Field(None, description="inline or the config file's path")
    table: str | None = Field(None, description="The table it is about, when there is one.")
    columns: list[str] = Field(
        default_factory=list,
        description="A grouped finding: the columns of ``table`` its members are about.",
    )
    members: list[Finding] = Field(
        default_factory=list,
        description="A grouped finding: the findings of the same rule on the same table in the "
        "same migration (or, for a review note, in every migration) it stands for, in order. "
        "The group keeps the first member's statement, operation, line and alternative.",
    )
    folded: list[Finding] = Field(
        default_factory=list,
        description="Findings on the same statement that only restated this one's cause "
        "(the held-lock finding for the scan SET NOT NULL already reports).",
    )
    risk_before: Risk | None = Field(
        None, description="The rule's risk before the table's size or the deploy changed it."
    )
    risk_note: str | None = Field(None, description="Why ``risk`` differs from ``risk_before``.")
    alternative: Alternative | None = Field(
        None, description="The safer migration as files, shared by every finding on it."
    )

    @property
    def rules(self) -> set[str]:
        """Every rule this finding answers for, its folded findings' included."""
        return {self.rule} | {rule for f in self.folded + self.members for rule in f.rules}

    risk_default: Risk | None = Field(
        None, description="The rule's own risk, when the config's [rules] table set another."
    )
    risk_source: str | None = Field(None, description="The config file that set the risk.")


# --- estimate -------------------------------------------------------------------------------


class TableStats(Model):
    table: str
    rows: int | None = None
    table_bytes: int | None = None
    index_bytes: int | None = None
    toast_bytes: int | None = None


class Impact(Model):
    kind: WorkKind
    table: str | None = None
    blocks: Blocks = "none"
    rows: int | None = None
    bytes: int | None = None
    seconds_low: float | None = None
    seconds_high: float | None = None
    summary: str = Field(description='e.g. "blocks writes on shop_order, ~12.4M rows, ~40 s-2 min"')
    grows_with: str | None = Field(None, description="What the duration grows with, without stats.")
    lock_queue: str | None = Field(None, description="The lock-queue warning, when it applies.")


# --- the report -----------------------------------------------------------------------------


class StatementReview(Model):
    index: int
    sql: str
    operation: int | None = None
    static: Verdict
    traced: Verdict | None = None
    final: Verdict = Field(description="The traced verdict when there is one, else the static.")
    trace: Trace | None = None
    disagreements: list[str] = Field(
        default_factory=list, description="Where static and traced verdicts differ."
    )
    impact: Impact | None = None


class RollbackReview(Model):
    """The rollback rehearsal, reviewed: the reverse's statements with their verdicts (shown,
    not counted: they run only if the migration is rolled back), and what failed."""

    statements: list[StatementReview] = Field(default_factory=list)
    error: ToolError | None = None
    reapply_error: ToolError | None = None
    skipped: str | None = None


class MigrationReview(Model):
    app_label: str
    name: str
    file: str
    change: ChangeKind
    atomic: bool
    operations: list[OperationInfo] = Field(default_factory=list)
    statements: list[StatementReview] = Field(default_factory=list)
    unrendered: list[StatementReview] = Field(
        default_factory=list,
        description="What migrate runs that sqlmigrate does not print (OperationInfo."
        "executed_only), reviewed like statements; index counts within this list.",
    )
    sqlmigrate: str = ""
    findings: list[Finding] = Field(default_factory=list)
    risk: Risk = Risk.safe
    impact: Impact | None = Field(None, description="The worst statement's impact.")
    error: ToolError | None = None
    dependencies: list[tuple[str, str]] = Field(default_factory=list)
    same_as_base: bool | None = Field(None, description="As CollectedMigration.same_as_base.")
    same_end_schema: bool | None = Field(None, description="As CollectedMigration.same_end_schema.")
    restores_release: str | None = Field(
        None,
        description="A modified file whose content at head is its content in this release tag "
        "(the latest the merge-base contains): the edit undoes one made since the release.",
    )
    elsewhere: list[str] = Field(
        default_factory=list,
        description="Rules of this migration's findings that are part of a decision shown "
        "elsewhere in the review (a review note, a reset, the edits of several merged "
        "migrations): they still speak for its statements.",
    )
    off: list[Finding] = Field(
        default_factory=list,
        description="Findings whose rule does not apply to how the team deploys (deploy-order "
        "rules with deploy = downtime): kept here, out of the risk.",
    )
    database: str = Field(
        "default", description="The DATABASES alias it was rendered and applied on."
    )
    rollback: RollbackReview | None = Field(None, description="None when not rehearsed.")

    @property
    def explained(self) -> set[str]:
        """The rules whose findings speak for the statements that raised them."""
        return {rule for f in self.findings + self.off for rule in f.rules} | set(self.elsewhere)

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"

    @classmethod
    def of(cls, m: CollectedMigration, **fields: object) -> MigrationReview:
        """The review of a collected migration: what the collector found, and ``fields``."""
        collected = {
            "app_label": m.app_label,
            "name": m.name,
            "file": m.file,
            "change": m.change,
            "atomic": m.atomic,
            "operations": m.operations,
            "sqlmigrate": m.sqlmigrate,
            "error": m.error,
            "database": m.database,
        }
        return cls(**{**collected, **fields})


Decision = Literal["pass", "fail", "error"]
Deploy = Literal["rolling", "downtime"]
"""rolling: the previous release serves while migrations run; downtime: the application is
stopped while they run."""


class Reset(Model):
    """Many merged migrations of one app deleted and replaced by a new initial migration (a
    reset, or the end of a squash): one decision, however many files."""

    app_label: str
    initial: list[str] = Field(description="app_label.name of the new initial migration(s).")
    deleted: list[str] = Field(description="app_label.name of every deleted migration.")
    finding: Finding = Field(
        description="The one finding for the reset; its members are the deleted migrations'."
    )


class Report(Model):
    schema_version: int = SCHEMA_VERSION
    tool_version: str
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    repo: str | None = None
    pull_request: int | None = Field(None, description="PR number, carried to the comment mode.")
    base_sha: str | None = None
    head_sha: str | None = None
    merge_base: str | None = None
    backend: str = "postgresql"
    django_version: str | None = None
    server_version_num: int | None = None
    server_version: str | None = Field(
        None, description="MySQL/MariaDB and SQLite: the version the rules assumed."
    )
    pg_version: int | None = Field(None, description="Major version the static rules assumed.")
    database: str | None = None
    base_state: BaseState | None = None
    server_binaries: str | None = Field(
        None, description="The embedded cluster's PostgreSQL binaries, and where they came from."
    )
    stats_source: str | None = None
    files: list[MigrationFile] = Field(default_factory=list)
    partitioned: list[str] = Field(
        default_factory=list, description="PostgreSQL: the partitioned parent tables at head."
    )
    migrations: list[MigrationReview] = Field(default_factory=list)
    errors: list[ToolError] = Field(default_factory=list)
    risk: Risk = Risk.safe
    fail_on: Risk = Risk.high
    decision: Decision = "pass"
    deploy: Deploy = Field(
        "rolling", description="How the team deploys: whether deploy-order rules apply."
    )
    small_table_seconds: float = Field(
        1.0, description="With table statistics, table-sized work estimated under this is low."
    )
    notes: list[Finding] = Field(
        default_factory=list,
        description="Project-wide advice, once per review (members: the per-migration findings).",
    )
    resets: list[Reset] = Field(default_factory=list)
    project_findings: list[Finding] = Field(
        default_factory=list,
        description="Findings about the project at head rather than one migration of the pull "
        "request (a missing migration, conflicting leaves); they count for the decision.",
    )

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the review: the migrations', the resets', the notes' and the
        project's at head."""
        own = [f for m in self.migrations for f in m.findings]
        return own + [r.finding for r in self.resets] + self.notes + self.project_findings
