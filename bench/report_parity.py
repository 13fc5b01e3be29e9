"""Report parity: the JSON reports (and the Markdown reviews) of two revisions, compared.

A change meant to keep behaviour (a refactoring) must leave every report as it was. This script
builds the same inputs for two revisions of the bot and compares what each one reports:

- the demo project (fixtures/demo), reviewed by ``analyze``, without and with table statistics;
- the Django corpus (tests/corpus/django), every migration added in one pull request;
- the kiosk project (tests/projects/kiosk) on MariaDB/MySQL and on SQLite;
- the SQL corpus (tests/corpus/sql) through ``check-sql --trace`` and ``check-sql --dialect``
  mysql/sqlite.

The collector is run once, by the base revision (``record``): the projects' SQL, traces and
probes are saved, and both revisions then review the very same collected input (``replay``, the
collect stage patched to return it). So a difference is the classifier's, estimator's or
renderer's, never a trace that timed differently. The report's ``generated_at`` is the only
field left out; a field that only the head revision writes is listed as added (the report is
extended, never repurposed), anything else is a difference.

    python bench/report_parity.py --base main             # main vs the working tree
    python bench/report_parity.py --base 10e9fbb --head 10e9fbb   # the check of the check
    python bench/report_parity.py --base main --cache /tmp/parity  # reuse a recording

Needs the servers the tests use: PostgreSQL at MR_TEST_PG_URL (default 127.0.0.1:5432) and
MariaDB/MySQL at MR_TEST_MYSQL_URL (default 127.0.0.1:3306). Exit 0 when identical, 1 if not.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("MR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_URL = os.environ.get("MR_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")
IDENTITY = ["-c", "user.name=parity", "-c", "user.email=parity@example.invalid"]
VOLATILE = frozenset({"generated_at"})
GENERATED_AT = datetime(2000, 1, 1, tzinfo=UTC)
WORKTREE = "worktree"


# -- the inputs --------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message)


def ignore() -> Any:
    return shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3")


def demo_repo(target: Path) -> None:
    shutil.copytree(ROOT / "fixtures" / "demo" / "base", target, ignore=ignore())
    git(target, "init", "--quiet", "--initial-branch=main")
    commit(target, "base")
    git(target, "checkout", "--quiet", "-b", "feature")
    shutil.copytree(
        ROOT / "fixtures" / "demo" / "head", target, ignore=ignore(), dirs_exist_ok=True
    )
    commit(target, "head")


def held_back_repo(source: Path, target: Path, keep: set[str]) -> None:
    """``source`` with only the migrations in ``keep`` (app/name) at base, every one at head."""
    shutil.copytree(source, target, ignore=ignore())
    held = target.parent / f"{target.name}-held"
    held.mkdir()
    moved = []
    for path in sorted(target.glob("*/migrations/0*.py")):
        key = f"{path.parent.parent.name}/{path.stem}"
        if key not in keep:
            destination = held / f"{path.parent.parent.name}--{path.name}"
            path.rename(destination)
            moved.append((destination, path))
    git(target, "init", "--quiet", "--initial-branch=main")
    commit(target, "base")
    git(target, "checkout", "--quiet", "-b", "feature")
    for destination, path in moved:
        destination.rename(path)
    commit(target, "head")


def server_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def projects(work: Path) -> dict[str, dict[str, Any]]:
    """Each reviewed project: its repository and the options ``analyze`` gets."""
    repos = work / "repos"
    found: dict[str, dict[str, Any]] = {}
    if not repos.exists():
        repos.mkdir(parents=True)
        demo_repo(repos / "demo")
        held_back_repo(ROOT / "tests" / "corpus" / "django", repos / "corpus", set())
        kiosk = ROOT / "tests" / "projects" / "kiosk"
        seed = {"inventory/0001_initial", "inventory/0002_seed"}
        held_back_repo(kiosk, repos / "kiosk-mysql", seed)
        held_back_repo(kiosk, repos / "kiosk-sqlite", seed)
        for path in (repos / "kiosk-sqlite" / "rawddl" / "migrations").glob("0*.py"):
            path.unlink()  # the raw MySQL forms: MySQL only
        commit(repos / "kiosk-sqlite", "no rawddl")
    found["demo"] = {"repo": repos / "demo", "database_url": PG_URL}
    found["corpus"] = {"repo": repos / "corpus", "database_url": PG_URL}
    found["kiosk-mysql"] = {
        "repo": repos / "kiosk-mysql",
        "settings": "kiosk.settings_mysql",
        "database_url": server_url(MYSQL_URL),
    }
    found["kiosk-sqlite"] = {"repo": repos / "kiosk-sqlite", "settings": "kiosk.settings_sqlite"}
    return found


def sql_files() -> list[Path]:
    return sorted((ROOT / "tests" / "corpus" / "sql").glob("*.sql"))


# -- producing the reports, inside one revision's tree ----------------------------------------


def produce(mode: str, work: Path, out: Path) -> None:
    """``record``: collect for real and save it; ``replay``: review the saved collection."""
    import bot.collect
    import bot.pipeline
    from bot.cli import main
    from bot.models import CollectorOutput, Report
    from bot.pipeline import ReviewOptions, review
    from bot.render import render_markdown

    recorded = work / "recorded"
    recorded.mkdir(exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    real_collect, real_trace = bot.collect.collect, bot.collect.trace_script
    for name, project in projects(work).items():
        saved = recorded / f"{name}.collect.json"
        if mode == "record":

            def recording(*args: Any, _saved: Path = saved, **kwargs: Any) -> CollectorOutput:
                output = real_collect(*args, **kwargs)
                _saved.write_text(output.model_dump_json(indent=1), encoding="utf-8")
                return output

            bot.pipeline.collect = recording
        else:
            text = saved.read_text(encoding="utf-8")
            bot.pipeline.collect = lambda *a, _t=text, **k: CollectorOutput.model_validate_json(_t)
        for stats in (None, "stats"):
            options = ReviewOptions(
                repo=project["repo"],
                base="main",
                head="feature",
                python=sys.executable,
                settings=project.get("settings"),
                database_url=project.get("database_url"),
                format="json",
                table_stats=str(stats_file(work, name)) if stats else None,
            )
            if mode == "record" and stats:
                bot.pipeline.collect = lambda *a, _s=saved, **k: (
                    CollectorOutput.model_validate_json(_s.read_text(encoding="utf-8"))
                )
            report = review(options)
            report.generated_at = GENERATED_AT  # the one volatile field, also in the review
            if mode == "record" and not stats:
                write_stats(work, name, report)
            label = f"{name}{'-stats' if stats else ''}"
            (out / f"{label}.json").write_text(report.model_dump_json(indent=1), encoding="utf-8")
            (out / f"{label}.md").write_text(render_markdown(report), encoding="utf-8")
            Report.model_validate_json((out / f"{label}.json").read_text(encoding="utf-8"))
    for path in sql_files():
        saved = recorded / f"{path.stem}.trace.json"
        if mode == "record":
            traced = real_trace(
                path.read_text(encoding="utf-8"), database_url=PG_URL, file=str(path)
            )
            saved.write_text(traced.model_dump_json(indent=1), encoding="utf-8")
        text = saved.read_text(encoding="utf-8")
        bot.collect.trace_script = lambda *a, _t=text, **k: (
            bot.collect.SqlTrace.model_validate_json(_t)
        )
        runs = {
            "trace": ["--trace", "--database-url", PG_URL],
            "postgresql": [],
            "mysql": ["--dialect", "mysql"],
            "mariadb-10.4": ["--dialect", "mysql", "--server-version", "10.4.0-MariaDB"],
            "sqlite": ["--dialect", "sqlite"],
        }
        for label, extra in runs.items():
            buffer = io.StringIO()
            try:
                with contextlib.redirect_stdout(buffer):
                    code = main(["check-sql", "--format", "json", *extra, str(path)])
            except Exception as exc:  # a crash is behaviour too: it must stay the same
                result = {"crash": f"{type(exc).__name__}: {exc}"}
            else:
                result = {"exit": code, "statements": json.loads(buffer.getvalue() or "null")}
            (out / f"checksql-{path.stem}-{label}.json").write_text(
                json.dumps(result, indent=1), encoding="utf-8"
            )
    bot.collect.trace_script = real_trace


def stats_file(work: Path, name: str) -> Path:
    return work / "recorded" / f"{name}.table-stats.json"


def write_stats(work: Path, name: str, report: Any) -> None:
    """Made-up production sizes for every table the review locks: the estimates get sized."""
    tables = sorted(
        {
            lock.relation
            for m in report.migrations
            for s in [*m.statements, *m.unrendered]
            for lock in s.final.locks
        }
    )
    rows = [
        {
            "table": table,
            "rows": 250_000 * (n + 1),
            "table_bytes": 60_000_000 * (n + 1),
            "index_bytes": 9_000_000 * (n + 1),
            "toast_bytes": 0,
        }
        for n, table in enumerate(tables)
    ]
    stats_file(work, name).write_text(json.dumps(rows, indent=1), encoding="utf-8")


# -- driving: one tree per revision, then the comparison --------------------------------------


def tree_of(revision: str, work: Path) -> Path:
    """The revision's files (``worktree``: this checkout as it is, uncommitted changes too)."""
    if revision == WORKTREE:
        return ROOT
    sha = git(ROOT, "rev-parse", "--verify", f"{revision}^{{commit}}")
    tree = work / "trees" / sha
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def run_in(tree: Path, mode: str, work: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    check = "import bot, sys; print(bot.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", check], env=env, cwd=tree, capture_output=True, text=True, check=True
    ).stdout.strip()
    if not Path(where).resolve().is_relative_to(tree.resolve()):
        sys.exit(f"parity: {tree} imports bot from {where}, not its own")
    command = [sys.executable, str(Path(__file__).resolve()), "--produce", mode]
    subprocess.run(
        [*command, "--work", str(work), "--out", str(out)], env=env, cwd=tree, check=True
    )


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key, item in value.items():
            if key not in VOLATILE:
                items |= flatten(item, f"{path}.{key}" if path else key)
        return items
    if isinstance(value, list):
        items = {f"{path}[]": len(value)}
        for n, item in enumerate(value):
            items |= flatten(item, f"{path}[{n}]")
        return items
    return {path: value}


def compare(base: Path, head: Path) -> tuple[list[str], list[str], list[str]]:
    """The files compared, the differences, and the fields only the head writes."""
    compared, differences, added = [], [], set()
    names = sorted({p.name for p in base.iterdir()} | {p.name for p in head.iterdir()})
    for name in names:
        a, b = base / name, head / name
        if not (a.exists() and b.exists()):
            differences.append(f"{name}: only in {'base' if a.exists() else 'head'}")
            continue
        compared.append(name)
        if name.endswith(".md"):
            old, new = a.read_text().splitlines(), b.read_text().splitlines()
            if old != new:
                diff = list(difflib.unified_diff(old, new, "base", "head", lineterm="", n=1))
                differences.append(f"{name}:\n" + "\n".join(diff[:40]))
            continue
        old_fields, new_fields = (
            flatten(json.loads(a.read_text())),
            flatten(json.loads(b.read_text())),
        )
        for key in sorted(set(old_fields) | set(new_fields)):
            if key not in old_fields:
                added.add(generic(key))
            elif key not in new_fields:
                differences.append(f"{name}: {key} removed (was {old_fields[key]!r})")
            elif old_fields[key] != new_fields[key]:
                differences.append(
                    f"{name}: {key}: {old_fields[key]!r} -> {new_fields[key]!r}"[:400]
                )
    return compared, differences, sorted(added)


def generic(key: str) -> str:
    """``migrations[2].statements[0].final.work`` -> ``migrations[].statements[].final.work``"""
    import re

    return re.sub(r"\[\d+\]", "[]", key)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--base", default="main", help="revision compared against (main)")
    parser.add_argument("--head", default=WORKTREE, help="revision under test (the working tree)")
    parser.add_argument("--cache", type=Path, help="keep the recording here and reuse it")
    parser.add_argument("--produce", choices=("record", "replay"), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.produce:
        produce(args.produce, args.work, args.out)
        return 0
    work = args.cache or Path(tempfile.mkdtemp(prefix="mr-parity-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        base_tree = tree_of(args.base, work)
        if not (work / "recorded").exists():
            run_in(base_tree, "record", work, work / "out" / "record")
        for side, revision in (("base", args.base), ("head", args.head)):
            target = work / "out" / side
            shutil.rmtree(target, ignore_errors=True)
            run_in(tree_of(revision, work), "replay", work, target)
        compared, differences, added = compare(work / "out" / "base", work / "out" / "head")
    finally:
        if args.cache is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"parity: {args.base} vs {args.head}, {len(compared)} reports compared:")
    print("  " + " ".join(sorted(compared)))
    for key in added:
        print(f"  added in head: {key}")
    for difference in differences[:60]:
        print(f"  DIFFERENT {difference}")
    if len(differences) > 60:
        print(f"  ... and {len(differences) - 60} more (--cache DIR keeps both sides in DIR/out)")
    print("parity: identical" if not differences else f"parity: {len(differences)} differences")
    return 0 if not differences else 1


if __name__ == "__main__":
    sys.exit(main())
