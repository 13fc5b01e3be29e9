"""The review pipeline and the ``analyze`` command: diff -> collect -> classify -> estimate.

Every stage's failure lands in the report as an error and turns the decision into ``error``
(exit 2): a tool that could not look must never say "no risk found". What did get reviewed is
still reported, so one bad migration never hides the verdict on the others.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Self

from pydantic import Field

from bot import __version__
from bot.alternative.build import WORTH_IT, needs_alternative
from bot.alternative.build import build as build_alternative
from bot.alternative.verify import verify as verify_alternatives
from bot.classify import Schema, backend_for, project_findings, review_migration
from bot.classify.backend import Backend
from bot.classify.postgresql import DEFAULT_VERSION as DEFAULT_PG_VERSION
from bot.cli import seconds
from bot.collect import TIMEOUT, collect
from bot.config import CONFIG_NAME, Config, find_config, load_config
from bot.consolidate import DEFAULT_SMALL_TABLE_SECONDS, consolidate
from bot.diff import (
    diff_migrations,
    git,
    head_tree,
    resolve,
    restored_release,
    toplevel,
    untracked_cause,
)
from bot.errors import EXIT_CODES, ReviewError, format_error
from bot.estimate import estimate_migration
from bot.ignores import (
    Ignore,
    apply_ignores,
    apply_project_ignores,
    apply_risk_overrides,
    config_ignores,
    config_risk_overrides,
    effective_risk,
    inline_ignores,
)
from bot.locate import operation_lines
from bot.models import (
    ChangeKind,
    CollectedMigration,
    CollectorOutput,
    Deploy,
    MigrationFile,
    MigrationReview,
    MissingMigration,
    Model,
    Report,
    Risk,
    TableStats,
    ToolError,
)
from bot.pgbin import add_pg_bin_argument, choose_binaries
from bot.render import DEFAULT_MAX_CHARS, render_markdown, version_mismatch
from bot.sarif import sarif_json
from bot.stats import load_stats

DEFAULT_BASES = ("origin/HEAD", "origin/main", "main", "origin/master", "master")
DEFAULT_FAIL_ON = Risk.high
FORMATS = ("markdown", "json", "sarif")


class ReviewOptions(Model):
    """What ``analyze`` is asked to do; the config file fills what the command line leaves out."""

    repo: Path = Field(Path("."), description="The Django project's folder in a git checkout.")
    base: str | None = Field(
        None, description=f"Base revision; default the first that exists of {DEFAULT_BASES}."
    )
    head: str = "HEAD"
    settings: str | None = None
    python: str | None = Field(None, description="The project's interpreter for the collector.")
    database_url: str | None = None
    pg_version: int | None = None
    pg_bin: Path | None = Field(
        None, description="PostgreSQL server binaries for the embedded cluster (bot.pgbin)."
    )
    fail_on: Risk | None = Field(
        None, description=f"Default: the config's, else {DEFAULT_FAIL_ON}."
    )
    table_stats: str | None = None
    stats_database_url: str | None = None
    deploy: Deploy | None = Field(None, description="Default: the config's, else rolling.")
    small_table_seconds: float | None = Field(
        None, description=f"Default: the config's, else {DEFAULT_SMALL_TABLE_SECONDS}."
    )
    config: Path | None = None
    template_dir: Path | None = None
    trace: bool = True
    cache_dir: Path | None = Field(
        None, description="Folder keeping base-state snapshots between runs (snapshots/)."
    )
    copy_untracked: list[str] = Field(
        default_factory=list,
        description="Files to copy from the checkout into the head's worktree (untracked ones).",
    )
    timeout: float = Field(TIMEOUT, description="Seconds the collector may run.")
    format: Literal["markdown", "json", "sarif"] = "markdown"
    output: Path | None = None
    max_chars: int = Field(
        DEFAULT_MAX_CHARS, description="Markdown longer than this is shortened; 0: no limit."
    )

    @classmethod
    def from_args(cls, args: argparse.Namespace, **given: Any) -> Self:
        """A command's options: its arguments that are named like a field, then ``given``."""
        return cls(**{k: v for k, v in vars(args).items() if k in cls.model_fields} | given)


def review(options: ReviewOptions) -> Report:
    report = Report(tool_version=__version__, fail_on=options.fail_on or DEFAULT_FAIL_ON)
    try:
        _run_stages(options, report)
    except ReviewError as exc:
        report.errors.append(exc.error)
    decide(report)
    return report


def _run_stages(options: ReviewOptions, report: Report) -> None:
    base = options.base or default_base(options.repo)
    diff = diff_migrations(options.repo, base, options.head)
    report.base_sha, report.head_sha = diff.base_sha, diff.head_sha
    report.merge_base, report.files = diff.merge_base, diff.files
    prefix = options.repo.resolve().relative_to(Path(diff.repo).resolve())
    with head_tree(options.repo, diff.head_sha, tuple(options.copy_untracked)) as tree:
        project = tree / prefix
        config, config_name = _config(options, project, prefix)
        report.fail_on = options.fail_on or config.fail_on or DEFAULT_FAIL_ON
        ignores = config_ignores(config, source=config_name) if config_name else []
        # Every pull request is checked at head (a missing migration, conflicting leaves), one
        # that touches no migration file too: it is the pull request that forgot one.
        try:
            output = _collect(options, config, project, diff.files, report)
        except ReviewError as exc:
            raise _untracked(exc, toplevel(options.repo), tree, project) from exc
        if report.backend == "postgresql" and diff.files:  # MySQL, SQLite: server_version
            report.pg_version = (
                options.pg_version
                or config.pg_version
                or (report.server_version_num // 10000 if report.server_version_num else None)
                or DEFAULT_PG_VERSION
            )
        backend = backend_for(
            report.backend,
            pg_version=report.pg_version or DEFAULT_PG_VERSION,
            server_version=report.server_version,
        )
        at_base = _missing_at_base(options, config, diff.merge_base, prefix, output)
        report.project_findings = project_findings(output, report.files, backend, at_base)
        apply_project_ignores(report.project_findings, ignores)
        if not diff.files:
            return
        migrations = list(output.migrations)
        labels = {str(PurePosixPath(m.file).parent): m.app_label for m in migrations}
        migrations += [deleted(f, labels) for f in diff.files if f.change == ChangeKind.deleted]
        stats = _stats(options, config, report)
        overrides = config_risk_overrides(config, source=config_name) if config_name else {}
        # What earlier migrations of this review built, for the later ones, per database alias.
        schemas: dict[str, Schema] = {}
        for collected in migrations:
            schema = schemas.setdefault(collected.database, Schema())
            migration = _review(collected, backend, schema, stats, report)
            own: list[Ignore] = []
            if migration.change != ChangeKind.deleted:
                try:
                    own = inline_ignores(tree / migration.file, display=migration.file)
                except ReviewError as exc:
                    report.errors.append(exc.error)
            apply_risk_overrides(migration, overrides, source=config_name or "")
            apply_ignores(migration, own + ignores)
            if migration.change != ChangeKind.deleted:
                place_findings(migration, tree / migration.file)
            if migration.change == ChangeKind.modified:
                migration.restores_release = restored_release(
                    options.repo, diff.merge_base, diff.head_sha, migration.file
                )
            report.migrations.append(migration)
        if backend.recipes:
            _alternatives(options, config, project, tree, backend, report, output.stopped_at)
        consolidate(
            report,
            deploy=options.deploy or config.deploy or "rolling",
            small_table_seconds=first_given(
                options.small_table_seconds,
                config.small_table_seconds,
                DEFAULT_SMALL_TABLE_SECONDS,
            ),
        )


def first_given(*values: float | None) -> float:
    """The first value that is not None (0 is a value)."""
    return next(v for v in values if v is not None)


def _collect(
    options: ReviewOptions,
    config: Config,
    project: Path,
    files: list[MigrationFile],
    report: Report,
) -> CollectorOutput:
    """The SQL and traces of every file that still exists at head, and the checks at head
    (which need no database: with no such file, none is made)."""
    present = [f for f in files if f.change != ChangeKind.deleted]
    binaries = None
    if present and not options.database_url:
        binaries = choose_binaries(options.pg_bin, options.pg_version or config.pg_version)
    output = collect(
        project,
        present,
        python=options.python,
        settings=options.settings or config.settings,
        database_url=options.database_url,
        trace=options.trace,
        cache_dir=options.cache_dir,
        base_sources=base_sources(options.repo, report.merge_base, present),
        pg_bin=binaries.bin_dir if binaries else None,
        timeout=options.timeout,
    )
    if binaries is not None and output.backend == "postgresql":
        report.server_binaries = f"{binaries.bin_dir} ({binaries.source})"
    report.backend = output.backend
    report.django_version = output.django_version
    report.server_version_num = output.server_version_num
    report.server_version = output.server_version
    report.database = output.database
    report.base_state = output.base_state
    report.partitioned = output.partitioned
    report.errors += output.errors
    return output


def _missing_at_base(
    options: ReviewOptions,
    config: Config,
    merge_base: str,
    prefix: Path,
    output: CollectorOutput,
) -> list[MissingMigration]:
    """What ``makemigrations --check`` would write at the merge-base, when it writes something at
    head: a migration that was already missing is not the pull request's doing. The checks need
    no database; when they fail at the merge-base, none is taken as missing there."""
    if not output.missing:
        return []
    with head_tree(options.repo, merge_base) as tree:
        try:
            found = collect(
                tree / prefix,
                [],
                python=options.python,
                settings=options.settings or config.settings,
                database_url=None,
                timeout=options.timeout,
            )
        except ReviewError:
            return []
    return [] if found.errors else found.missing


def _untracked(exc: ReviewError, checkout: Path, tree: Path, project: Path) -> ReviewError:
    """``exc``, with how to provide the file it misses when that is untracked in the checkout."""
    error = exc.error
    if tree == checkout:
        return exc
    found = untracked_cause(f"{error.message}\n{error.detail or ''}", checkout, tree, project)
    if found is None:
        return exc
    return ReviewError(
        error.message,
        stage=error.stage,
        file=error.file,
        hint=f"{found} is in your checkout but not in the head commit (untracked or "
        f"git-ignored), so the head's temporary worktree lacks it: pass --copy-untracked "
        f"{found}, or run the review in a checkout of the head commit, which is then used as it "
        f"is, untracked files included",
        detail=error.detail,
    )


def base_sources(repo: Path, merge_base: str | None, files: list[MigrationFile]) -> dict[str, str]:
    """The source of each modified file at the merge-base, for the collector to compare."""
    if merge_base is None:
        return {}
    root = toplevel(repo)
    found = {}
    for file in files:
        if file.change == ChangeKind.modified:
            try:
                found[file.path] = git(root, "show", f"{merge_base}:{file.path}")
            except ReviewError:
                continue
    return found


def _alternatives(
    options: ReviewOptions,
    config: Config,
    project: Path,
    tree: Path,
    backend: Backend,
    report: Report,
    stopped_at: str | None,
) -> None:
    """One safer alternative per risky migration, shared by its findings, then verified, unless
    the review stopped before its time limit (verifying would take another).

    A migration whose alternative cannot be built, and a verification that fails, are errors of
    the review naming the file; the findings and the other alternatives stand."""
    alternatives = {}
    for m in report.migrations:
        if (
            m.change == ChangeKind.deleted
            or m.error
            or m.database != "default"  # the alias the scratch database verifies
            or not needs_alternative(m)
        ):
            continue
        try:
            alternatives[m.label] = build_alternative(
                m, tree, backend, partitioned=set(report.partitioned)
            )
        except Exception as exc:  # as in _review: one migration's crash is its own error
            report.errors.append(_crash("alternative", m.file, exc))
    try:
        reused = 0
        if stopped_at is None:
            reused = verify_alternatives(
                alternatives,
                project,
                cache_dir=options.cache_dir,
                python=options.python,
                settings=options.settings or config.settings,
                database_url=options.database_url,
                timeout=options.timeout,
            )
    except ReviewError as exc:
        report.errors.append(exc.error)
    else:
        if reused:
            offered = sum(1 for alternative in alternatives.values() if alternative.files)
            print(
                f"migration-review: {reused} of {offered} verdicts on safer alternatives read "
                "from the cache folder",
                file=sys.stderr,
            )
    for alternative in alternatives.values():
        if stopped_at and alternative.files:
            alternative.verification = (
                f"not verified: the review stopped at {stopped_at}, to end before its time limit"
            )
    for migration in report.migrations:
        alternative = alternatives.get(migration.label) if migration.database == "default" else None
        for finding in migration.findings if alternative else []:
            if finding.risk >= WORTH_IT and not finding.ignored:
                finding.alternative = alternative


def deleted(file: MigrationFile, labels: dict[str, str]) -> CollectedMigration:
    """A deleted migration, for the classifier: it has no SQL, but deleting it is a finding.

    Django cannot load a file that is gone, so its app label is the one the collector found for
    another migration in the same folder, else the app's folder name.
    """
    path = PurePosixPath(file.path)
    folder = str(path.parent)
    app_label = labels.get(folder) or path.parent.parent.name
    return CollectedMigration(
        app_label=app_label, name=path.stem, file=file.path, change=file.change, atomic=True
    )


def _review(
    collected: CollectedMigration,
    backend: Backend,
    schema: Schema,
    stats: dict[str, TableStats] | None,
    report: Report,
) -> MigrationReview:
    """Classify and estimate one migration; a crash in a stage becomes that migration's error.

    Catching everything here is deliberate: a bug in one rule must not lose the review of the
    other migrations, and the error still fails the check.
    """
    try:
        migration = review_migration(collected, backend=backend, schema=schema)
    except Exception as exc:
        return MigrationReview.of(collected, error=_crash("classify", collected.file, exc))
    try:
        estimate_migration(migration, stats, transactional_ddl=backend.transactional_ddl)
    except Exception as exc:
        report.errors.append(_crash("estimate", collected.file, exc))
    for finding in migration.findings:
        finding.migration = finding.migration or migration.label
        finding.file = finding.file or migration.file
    migration.dependencies = collected.dependencies
    migration.same_as_base = collected.same_as_base
    migration.same_end_schema = collected.same_end_schema
    return migration


def place_findings(migration: MigrationReview, path: Path) -> None:
    """Give each finding the line of the operation it is about (else of ``class Migration``)."""
    class_line, lines = operation_lines(path)
    for finding in migration.findings:
        if finding.line is not None:
            continue
        operation = finding.operation
        in_file = operation is not None and operation < len(lines)
        finding.line = lines[operation] if in_file else class_line


def _crash(stage: str, file: str, exc: Exception) -> ToolError:
    if isinstance(exc, ReviewError):
        return exc.error
    return ToolError(
        stage=stage,
        message=f"internal error while reviewing this migration: {exc!r}",
        file=file,
        hint="this is a bug in django-migration-review: please report it with the JSON report",
        detail="".join(traceback.format_exception(exc)),
    )


def _config(options: ReviewOptions, project: Path, prefix: Path) -> tuple[Config, str | None]:
    """The config given with --config, else the one committed next to manage.py at head."""
    if options.config is not None:
        return load_config(options.config), str(options.config)
    found = find_config(project)
    if found is None:
        return Config(), None
    name = str(PurePosixPath(prefix.as_posix()) / found.name)
    return load_config(found, display=name), name


def _stats(options: ReviewOptions, config: Config, report: Report) -> dict[str, TableStats] | None:
    source = options.table_stats or options.stats_database_url or config.table_stats
    if not source:
        return None
    try:
        stats = load_stats(source)
    except ReviewError as exc:
        report.errors.append(exc.error)
        return None
    report.stats_source = describe_source(source)
    return stats


def describe_source(source: str) -> str:
    """Where the table sizes came from, without the credentials of a database URL."""
    from urllib.parse import urlsplit

    if "://" not in source:
        return Path(source).name
    url = urlsplit(source)
    return f"{url.hostname}{url.path}"


def default_base(repo: Path) -> str:
    """The branch a pull request usually targets: the remote's default branch, then main/master."""
    root = toplevel(repo)
    for candidate in DEFAULT_BASES:
        try:
            resolve(root, candidate)
        except ReviewError:
            continue
        return candidate
    raise ReviewError(
        f"no --base given, and none of {', '.join(DEFAULT_BASES)} exists in {root}",
        stage="diff",
        file=str(repo),
        hint="pass --base the branch or commit the changes are compared with",
    )


def decide(report: Report) -> None:
    """Overall risk and decision: errors first, then anything reaching fail-on, else pass."""
    risks = [effective_risk(m) for m in report.migrations]
    others = [r.finding for r in report.resets] + report.notes + report.project_findings
    risks += [f.risk for f in others if not f.ignored]
    report.risk = Risk.worst(risks)
    # With errors already reported, the comment lists what they kept from being reviewed; with
    # none, a file the collector silently skipped must still stop the check.
    if not report.errors:
        reviewed = {m.file for m in report.migrations}
        report.errors += [
            ToolError(
                stage="collect",
                message="this migration was not reviewed",
                file=file.path,
                hint="check that its app is in INSTALLED_APPS of the settings used "
                "(--settings) and that the file is a migration Django loads",
            )
            for file in report.files
            if file.path not in reviewed
        ]
    if report.errors or any(m.error for m in report.migrations):
        report.decision = "error"
    elif any(risk >= report.fail_on for risk in risks):
        report.decision = "fail"
    else:
        report.decision = "pass"


# --- the command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repo", type=Path, default=Path("."), help="the Django project in a git checkout (.)"
    )
    parser.add_argument(
        "--base",
        help="branch or commit the changes are compared with (its merge-base with --head); "
        f"default: the first that exists of {', '.join(DEFAULT_BASES)}",
    )
    parser.add_argument("--head", default="HEAD", help="revision under review (HEAD)")
    parser.add_argument(
        "--settings",
        help="Django settings module (else DJANGO_SETTINGS_MODULE or the one manage.py sets)",
    )
    parser.add_argument("--python", help="the project's Python interpreter (this one)")
    parser.add_argument(
        "--database-url",
        help="server to render SQL on, in a fresh database the tool creates and drops: "
        "postgresql://... (default: an embedded throwaway cluster), or mysql://user@host:3306/ "
        "for a MySQL/MariaDB project (required there); SQLite projects need none",
    )
    parser.add_argument(
        "--pg-version", type=int, help="PostgreSQL major version the static rules assume"
    )
    add_pg_bin_argument(parser)
    parser.add_argument("--table-stats", help="table statistics file (JSON or CSV)")
    parser.add_argument("--stats-database-url", help="read-only URL to read table statistics from")
    add_policy_arguments(parser)
    parser.add_argument("--config", type=Path, help=f"config file (default: {CONFIG_NAME} at head)")
    parser.add_argument("--template-dir", type=Path, help="folder of templates overriding ours")
    parser.add_argument(
        "--no-trace",
        dest="trace",
        action="store_false",
        help="do not trace locks on the scratch database (static verdicts only)",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="folder that keeps the base state (the database with the earlier migrations "
        "applied) between runs, in snapshots/ (default: none, every run migrates from empty)",
    )
    parser.add_argument(
        "--copy-untracked",
        nargs="+",
        default=[],
        metavar="PATH",
        help="when --head is not what the checkout has, copy these files (relative to the "
        "repository, e.g. a git-ignored local_settings.py) from the checkout into the head's "
        "temporary worktree",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=TIMEOUT,
        metavar="SECONDS",
        help=f"stop the review when rendering and tracing take longer ({TIMEOUT:.0f}); the "
        "message names the migration and operation it was at",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="markdown",
        help="markdown (the review comment), json (the report) or sarif (SARIF 2.1.0, for "
        "GitHub code scanning)",
    )
    parser.add_argument("--output", type=Path, help="write the review here instead of stdout")
    parser.add_argument(
        "--fail-on",
        type=Risk,
        choices=list(Risk),
        help=f"exit 1 when a migration reaches this risk (config, else {DEFAULT_FAIL_ON})",
    )


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """How the team deploys, what counts as a small table, how long the Markdown may be."""
    parser.add_argument(
        "--deploy",
        choices=("rolling", "downtime"),
        help="rolling: the previous release serves while migrations run (deploy-order rules "
        "apply); downtime: the application is stopped meanwhile (config, else rolling)",
    )
    parser.add_argument(
        "--small-table-seconds",
        type=float,
        metavar="SECONDS",
        help="with table statistics, table-sized work estimated under this is low risk "
        f"(config, else {DEFAULT_SMALL_TABLE_SECONDS:g})",
    )
    parser.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        metavar="N",
        help="shorten the Markdown review to N characters as the PR comment is (drop the SQL, "
        f"then all but the findings); 0: no limit (default {DEFAULT_MAX_CHARS}); JSON is whole",
    )


def run(args: argparse.Namespace) -> int:
    options = ReviewOptions.from_args(args)
    return emit(review(options), options)


def headline(report: Report) -> str:
    """The verdict in one line; an error has none, whatever the risk of what was reviewed."""
    count = f"{len(report.migrations)} migrations"
    if report.decision == "error":
        return f"error, no verdict: the review is incomplete ({count} reviewed)"
    return f"{report.decision} (risk {report.risk}, fail-on {report.fail_on}, {count})"


def emit(report: Report, options: ReviewOptions) -> int:
    """Write the review where it was asked for, the errors to stderr; return the exit code.

    A broken custom template does not lose the review: it is rendered with the bundled templates
    and the template error is reported.
    """
    limit = options.max_chars or None
    if options.format == "json":
        text = report.model_dump_json(indent=2) + "\n"
    elif options.format == "sarif":
        text = sarif_json(report)
    else:
        try:
            text = render_markdown(report, template_dir=options.template_dir, max_chars=limit)
        except ReviewError as exc:
            report.errors.append(exc.error)
            report.decision = "error"
            text = render_markdown(report, max_chars=limit)
    if options.output is None:
        sys.stdout.write(text)
    else:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(text, encoding="utf-8")
        print(f"migration-review: {headline(report)}: {options.output}", file=sys.stderr)
    mismatch = version_mismatch(report)
    if mismatch:
        print(f"migration-review: warning: {mismatch}", file=sys.stderr)
    for error in report.errors + [m.error for m in report.migrations if m.error]:
        print(f"migration-review: {error.stage} error: {format_error(error)}", file=sys.stderr)
    return EXIT_CODES[report.decision]
