"""This tool cold, warm and on a moved base, side by side with what else reviews migrations.

For one project and pull request (``--base``, ``--head``), on one PostgreSQL (a throwaway
cluster this script starts, or the tool's own embedded cluster where said), it times:

- **tool cold**: ``migration-review analyze`` with no cache (embedded cluster);
- **tool cold + save**: the same with an empty ``--cache-dir``, which then holds the base state;
- **tool warm**: with that cache (a hit), on the embedded cluster: with the verdicts on the
  safer alternatives removed before each run (verified again), then as kept (a re-run of the
  same pull request reads them back); and on ``--database-url``;
- **tool moved base** (``--moved-base``, ``--moved-head``): a pull request on a base that moved
  on by a few merged migrations, each run from a copy of the cache the first pull request left;
- **sqlmigrate**: one ``manage.py sqlmigrate`` process per new migration, on a database already
  at the base (migrating an empty database to the base is timed once, apart);
- **django-migration-linter**: ``manage.py lintmigrations --git-commit-id BASE --no-cache`` on
  the head checkout, on that database;
- **squawk**: ``squawk`` on the SQL files sqlmigrate printed;
- the **floors**: Django load (``django.setup()``); warm floor: on a copy of the database at the
  base, one process renders the new migrations' SQL as ``sqlmigrate`` does and applies them;
  cold floor: the same from an empty database, applying the migrations they depend on first.

Each is the median of ``--runs`` runs (``--cold-runs`` for the cold ones, which apply the whole
history). Memory is the peak, over samples every 50 ms, of the summed resident set (RSS; and
PSS, which counts shared pages once) of the command and every process it starts: this script
is a child subreaper, so the postmaster ``pg_ctl`` detaches stays in the tree. Commands that use
this script's cluster do not count its server processes.

    python bench/synthetic.py /tmp/synth
    python bench/side_by_side.py --repo /tmp/synth --base main --head pr-5 \\
        --moved-base moved --moved-head pr-moved --python .bench-venv/bin/python

``--python`` is the project's interpreter; it needs Django, psycopg and django-migration-linter
(``--extra-path`` adds a folder to its ``sys.path``, e.g. one where the linter was installed with
``pip install --target``). ``squawk`` (PyPI ``squawk-cli``) is looked up next to it and on PATH.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.collector.mr_collector.cluster import EmbeddedCluster  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36
SAMPLE_SECONDS = 0.05
WRAPPER = """\
from {settings} import *  # noqa: F401,F403

DATABASES = {{"default": {{
    "ENGINE": "django.db.backends.postgresql", "NAME": {name!r}, "USER": "postgres",
    "HOST": "127.0.0.1", "PORT": {port!r},
}}}}
INSTALLED_APPS = [*INSTALLED_APPS, "django_migration_linter"]  # noqa: F405
"""
FLOOR = r"""
import sys, django
django.setup()
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

targets = [tuple(t.split(":", 1)) for t in sys.argv[1:]]
new = set(targets)
executor = MigrationExecutor(connection)
plan = executor.migration_plan(targets)
sqlmigrate = MigrationLoader(connection, replace_migrations=False)
state = executor._create_project_state(with_applied_migrations=True)
rendered = 0
for migration, _ in plan:
    key = (migration.app_label, migration.name)
    if key in new:
        rendered += len(sqlmigrate.collect_sql([(sqlmigrate.graph.nodes[key], False)]))
    if "apps" not in state.__dict__:
        state.apps
    state = executor.apply_migration(state, migration)
print(f"floor: {len(plan)} applied, {len(new)} rendered ({rendered} statements)", file=sys.stderr)
"""

# A cold run of a long history on a loaded machine may take longer than the collector's default
# limit, and it is what is being measured.
TIMEOUT_SECONDS = 4 * 3600


class Measured:
    """One row's figures; ``failure`` says why the command did not do its work (then the time
    is not a measurement of it, and the table shows the failure instead)."""

    def __init__(self, seconds: float, rss: int, pss: int, failure: str | None = None) -> None:
        self.seconds, self.rss, self.pss, self.failure = seconds, rss, pss, failure


class Rows(dict[str, Measured]):
    """The table's rows, each also printed to stderr as soon as it is measured."""

    def __setitem__(self, name: str, measured: Measured) -> None:
        super().__setitem__(name, measured)
        if measured.failure:
            print(f"row: {name}: FAILED, {measured.failure}", file=sys.stderr, flush=True)
            return
        print(f"row: {name}: {measured.seconds:.2f} s, RSS {measured.rss / 2**20:.0f} MB, "
              f"PSS {measured.pss / 2**20:.0f} MB", file=sys.stderr, flush=True)  # fmt: skip


def descendants(root: int, exclude: frozenset[int] = frozenset()) -> list[int]:
    """Every process below ``root``, not entering the subtrees of ``exclude``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in exclude:
                found.append(child)
                stack.append(child)
    return found


def memory(pids: list[int]) -> tuple[int, int]:
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


def measure(
    command: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    ok: tuple[int, ...] = (0,),
) -> Measured:
    """Run ``command``, timed and sampled; an exit code outside ``ok`` is a failed row.

    ``ok`` is (0, 1) only for commands whose 1 is a verdict (the tool, the linter, squawk
    finding something); for Django's commands and the floors, 1 is a traceback."""
    peak = [0, 0]
    done = threading.Event()
    # Processes already here (this script's own cluster) are not the command's.
    before = frozenset(descendants(os.getpid()))

    def sample() -> None:
        while not done.is_set():
            rss, pss = memory(descendants(os.getpid(), before))
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    sampler.start()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    # Wait for what the command left running (a detached postmaster) before stopping the clock.
    while descendants(os.getpid(), before):
        _reap()
        time.sleep(0.01)
    seconds = time.monotonic() - started
    done.set()
    sampler.join()
    _reap()
    failure = None
    if result.returncode not in ok:
        print(f"{' '.join(command[:4])}... exited {result.returncode}:\n{result.stderr[-3000:]}",
              file=sys.stderr, flush=True)  # fmt: skip
        last = next((line for line in reversed(result.stderr.splitlines()) if line.strip()), "")
        failure = f"exit {result.returncode}" + (f": {last.strip()[:200]}" if last else "")
    return Measured(seconds, peak[0], peak[1], failure)


def _reap() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def median(
    runs: int,
    action: Callable[[], Measured],
    prepare: Callable[[], None] | None = None,
) -> Measured:
    """The median of ``runs`` runs; one failed run fails the row (a median over crashes and
    successes measures neither)."""
    results = []
    for _ in range(runs):
        if prepare is not None:
            prepare()
        results.append(action())
        print(f"    {results[-1].seconds:.2f} s", file=sys.stderr, flush=True)
    return Measured(
        statistics.median(r.seconds for r in results),
        max(r.rss for r in results),
        max(r.pss for r in results),
        next((r.failure for r in results if r.failure), None),
    )


def psql(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def worktree(repo: Path, rev: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bench-wt-"))
    subprocess.run(
        ["git", "-C", str(repo), "worktree", "add", "--detach", "--quiet", str(folder), rev],
        check=True,
    )
    try:
        yield folder
    finally:
        subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(folder)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="the git repository")
    parser.add_argument("--project", default=".", help="folder of manage.py inside the repo")
    parser.add_argument("--settings", default="synth.settings")
    parser.add_argument("--base", required=True)
    parser.add_argument("--head", required=True)
    parser.add_argument("--moved-base")
    parser.add_argument("--moved-head")
    parser.add_argument("--python", required=True, help="the project's interpreter")
    parser.add_argument("--extra-path", action="append", default=[])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--sqlmigrate-runs",
        type=int,
        help="runs of the sqlmigrate rows (default --runs): one process per migration is slow "
        "on a large project",
    )
    parser.add_argument("--cold-runs", type=int, default=1)
    parser.add_argument("--skip", action="append", default=[], help="a row to leave out")
    parser.add_argument(
        "--also-rows",
        default="warm,sqlmigrate,linter,floor",
        help="which rows to measure for each --also-head (comma-separated)",
    )
    parser.add_argument(
        "--also-head",
        action="append",
        default=[],
        help="another pull request on the same base: tool warm, sqlmigrate, linter, warm floor",
    )
    parser.add_argument("--label", default="")
    parser.add_argument(
        "--cache-from",
        type=Path,
        help="a cache folder from an earlier cold run of the same pull request: the cold rows "
        "are not run, the database at the base is restored from its snapshot",
    )
    args = parser.parse_args(argv)
    args.python = str(Path(args.python).absolute())
    libc = ctypes.CDLL(None)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    rows = Rows()
    notes = [load_note("start")]
    tool = [sys.executable, "-m", "bot"]
    scratch = Path(tempfile.mkdtemp(prefix="bench-side-"))
    with (
        EmbeddedCluster() as cluster,
        worktree(args.repo, args.base) as base_tree,
        worktree(args.repo, args.head) as head_tree,
    ):
        port = str(cluster.port)
        server = cluster.url

        def settings_env(database: str) -> dict[str, str]:
            wrapper = scratch / f"wrap_{database}"
            wrapper.mkdir(exist_ok=True)
            (wrapper / "bench_settings.py").write_text(
                WRAPPER.format(settings=args.settings, name=database, port=port)
            )
            paths = [str(wrapper), *args.extra_path]
            return {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(paths),
                "DJANGO_SETTINGS_MODULE": "bench_settings",
            }

        def analyze(*extra: str, base: str = args.base, head: str = args.head) -> Measured:
            return measure(
                [
                    *tool,
                    "analyze",
                    "--repo",
                    str(args.repo / args.project),
                    "--base",
                    base,
                    "--head",
                    head,
                    "--python",
                    args.python,
                    "--settings",
                    args.settings,
                    "--timeout",
                    str(TIMEOUT_SECONDS),
                    "--format",
                    "json",
                    "--output",
                    str(scratch / "report.json"),
                    *extra,
                ],
                ok=(0, 1),
            )

        def wanted(row: str) -> bool:
            return row not in args.skip

        print("tool cold", file=sys.stderr)
        if wanted("tool cold"):
            rows["tool cold (embedded, no cache)"] = median(args.cold_runs, analyze)
        cache = scratch / "cache"
        if args.cache_from:
            shutil.copytree(args.cache_from, cache)
            first = analyze("--cache-dir", str(cache))  # the report, and whatever the copy lacks
            notes.append(f"cold rows not run: the cache came from {args.cache_from}")
        else:
            first = rows["tool cold + save (embedded)"] = median(
                args.cold_runs,
                lambda: analyze("--cache-dir", str(cache)),
                prepare=lambda: shutil.rmtree(cache, ignore_errors=True),
            )
        if first.failure:
            print_table(args.label or args.repo.name, rows, notes)
            raise SystemExit(f"the tool's first run failed ({first.failure}): nothing to compare")
        report = json.loads((scratch / "report.json").read_text())
        new = [
            (m["app_label"], m["name"]) for m in report["migrations"] if m["change"] != "deleted"
        ]
        notes.append(
            f"{len(new)} new migrations; base state {report['base_state']['migrations']} migrations"
        )
        print("tool warm", file=sys.stderr)
        if wanted("warm"):
            rows["tool warm (embedded, base restored, alternatives verified)"] = median(
                args.runs,
                lambda: analyze("--cache-dir", str(cache)),
                prepare=lambda: shutil.rmtree(cache / "verdicts", ignore_errors=True),
            )
            rows["tool warm re-run (embedded, base restored, verdicts read back)"] = median(
                args.runs, lambda: analyze("--cache-dir", str(cache))
            )
            rows["tool warm (--database-url, cache hit)"] = median(
                args.runs, lambda: analyze("--cache-dir", str(cache), "--database-url", server)
            )
            warm_report = json.loads((scratch / "report.json").read_text())
            assert warm_report["base_state"]["cache"] == "hit", warm_report["base_state"]
        if args.moved_base and args.moved_head and wanted("moved"):
            print("tool moved base", file=sys.stderr)
            moved_cache = scratch / "moved-cache"

            def fresh_copy() -> None:
                shutil.rmtree(moved_cache, ignore_errors=True)
                shutil.copytree(cache, moved_cache)

            rows["tool moved base (embedded, prefix restore)"] = median(
                args.runs,
                lambda: analyze(
                    "--cache-dir", str(moved_cache), base=args.moved_base, head=args.moved_head
                ),
                prepare=fresh_copy,
            )
            moved = json.loads((scratch / "report.json").read_text())["base_state"]
            notes.append(
                f"moved base: {moved['cache']}, {moved['restored']} restored, "
                f"{moved['applied']} applied since"
            )

        manage = [args.python, "manage.py"]
        base_project, head_project = base_tree / args.project, head_tree / args.project
        psql(server, "CREATE DATABASE bench_base")
        print("migrate to base", file=sys.stderr)
        migrate = [*manage, "migrate", "--no-input"]
        if wanted("migrate from empty"):
            rows["migrate an empty database to the base (once)"] = measure(
                migrate, cwd=base_project, env=settings_env("bench_base")
            )
        else:
            # The tool's own snapshot of the base, then migrate for what it does not hold.
            dump = max((cache / "snapshots").glob("*/base.dump"), key=lambda p: p.stat().st_size)
            subprocess.run(
                ["pg_restore", "--no-owner", f"--dbname={server[: server.rindex('/')]}/bench_base",
                 str(dump)],
                check=True,
            )  # fmt: skip
            rows["restore the tool's snapshot and migrate the rest (setup, once)"] = measure(
                migrate, cwd=base_project, env=settings_env("bench_base")
            )
        at_base = settings_env("bench_base")
        sql_folder = scratch / "sql"
        sql_folder.mkdir()

        def sqlmigrate_each(new: list[tuple[str, str]], project: Path) -> Measured:
            total = Measured(0.0, 0, 0)
            for app, name in new:
                one = measure([*manage, "sqlmigrate", app, name], cwd=project, env=at_base)
                total.seconds += one.seconds
                total.rss, total.pss = max(total.rss, one.rss), max(total.pss, one.pss)
                if one.failure:
                    total.failure = total.failure or f"{app}.{name}: {one.failure}"
            return total

        def lint(project: Path) -> Measured:
            command = [*manage, "lintmigrations", "--git-commit-id", _sha(args.repo, args.base)]
            # It runs git diff where the settings module is, unless told the project's root.
            command += ["--project-root-path", str(project)]
            return measure([*command, "--no-cache"], cwd=project, env=at_base, ok=(0, 1))

        if wanted("sqlmigrate"):
            rows["one sqlmigrate per migration (database at base)"] = median(
                args.sqlmigrate_runs or args.runs, lambda: sqlmigrate_each(new, head_project)
            )
        for index, (app, name) in enumerate(new):
            done = subprocess.run(
                [*manage, "sqlmigrate", app, name],
                cwd=head_project,
                env=at_base,
                capture_output=True,
                text=True,
                check=True,
            )
            (sql_folder / f"{index:03d}_{app}_{name}.sql").write_text(done.stdout)
        print("linter", file=sys.stderr)
        if wanted("linter"):
            rows["django-migration-linter lintmigrations --no-cache"] = median(
                args.runs, lambda: lint(head_project)
            )
        squawk = shutil.which("squawk", path=str(Path(args.python).parent)) or shutil.which(
            "squawk"
        )
        if squawk:
            rows["squawk on the sqlmigrate SQL"] = median(
                args.runs,
                lambda: measure([squawk, *map(str, sorted(sql_folder.iterdir()))], ok=(0, 1)),
            )
        else:
            notes.append("squawk not found (pip install squawk-cli)")
        print("floors", file=sys.stderr)
        rows["floor: Django load"] = median(
            args.runs,
            lambda: measure(
                [args.python, "-c", "import django; django.setup()"], cwd=head_project, env=at_base
            ),
        )
        counter = iter(range(10**6))

        def copy_of_base() -> None:
            run = f"bench_run_{next(counter)}"
            psql(server, f"CREATE DATABASE {run} TEMPLATE bench_base")
            current["db"] = run

        def empty_db() -> None:
            run = f"bench_run_{next(counter)}"
            psql(server, f"CREATE DATABASE {run}")
            current["db"] = run

        current: dict[str, str] = {}

        def floor(new: list[tuple[str, str]] = new, project: Path = head_project) -> Measured:
            targets = [f"{app}:{name}" for app, name in new]
            return measure(
                [args.python, "-c", FLOOR, *targets],
                cwd=project,
                env=settings_env(current["db"]),
            )

        rows["warm floor: render + apply the new ones (database at base)"] = median(
            args.runs, floor, prepare=copy_of_base
        )
        if wanted("cold floor"):
            rows["cold floor: the same from an empty database"] = median(
                args.cold_runs, floor, prepare=empty_db
            )
        for extra in args.also_head:
            print(f"also {extra}", file=sys.stderr)
            with worktree(args.repo, extra) as extra_tree:
                project = extra_tree / args.project
                kept = scratch / f"cache-{extra}"
                shutil.copytree(cache, kept)
                # The first run restores what fits and saves the rest; the measured ones hit.
                analyze("--cache-dir", str(kept), head=extra)
                warm = median(args.runs, partial(analyze, "--cache-dir", str(kept), head=extra))
                report = json.loads((scratch / "report.json").read_text())
                more = [(m["app_label"], m["name"]) for m in report["migrations"]]
                label = f"{extra}, k={len(more)}"
                rows[f"{label}: tool warm (embedded, cache hit)"] = warm
                if "sqlmigrate" in args.also_rows:
                    rows[f"{label}: one sqlmigrate per migration"] = median(
                        args.sqlmigrate_runs or args.runs, partial(sqlmigrate_each, more, project)
                    )
                if "linter" in args.also_rows:
                    rows[f"{label}: django-migration-linter"] = median(
                        args.runs, partial(lint, project)
                    )
                rows[f"{label}: warm floor"] = median(
                    args.runs, partial(floor, more, project), prepare=copy_of_base
                )
    shutil.rmtree(scratch, ignore_errors=True)
    notes.append(load_note("end"))
    print_table(args.label or f"{args.repo.name} {args.base}..{args.head}", rows, notes)
    return 0


def load_note(when: str) -> str:
    """The machine's load, said next to every figure: the team shares its cores."""
    one, five, fifteen = os.getloadavg()
    return f"load average at the {when}: {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min)"


def _sha(repo: Path, rev: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", rev], capture_output=True, text=True, check=True
    ).stdout.strip()


def print_table(label: str, rows: dict[str, Measured], notes: list[str]) -> None:
    warm_floor = next(
        (m.seconds for k, m in rows.items() if k.startswith("warm floor") and not m.failure), None
    )
    print(f"\n### {label}\n")
    for note in notes:
        print(f"- {note}")
    print("\n| run | median wall time | x warm floor | peak RSS (sum) | peak PSS (sum) |")
    print("|---|---|---|---|---|")
    for name, m in rows.items():
        if m.failure:
            print(f"| {name} | **failed** ({m.failure.replace('|', '/')}) | | | |")
            continue
        ratio = f"{m.seconds / warm_floor:.2f}" if warm_floor else ""
        print(
            f"| {name} | {m.seconds:.2f} s | {ratio} | {m.rss / 2**20:.0f} MB | "
            f"{m.pss / 2**20:.0f} MB |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    raise SystemExit(main())
