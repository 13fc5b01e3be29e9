"""Time and memory of one huge migration, by size, so their growth with the operation count shows.

    python bench/huge.py [--kinds createmodel,addfield,alterfield,runsql]
                         [--sizes 1000,2000,5000,10000] [--no-trace] [--sqlmigrate URL]

Each size is one new migration of that many operations on the demo's base project, reviewed by
``analyze`` in a process of its own (embedded cluster, traced unless ``--no-trace``): the time of
the collect stage (one collector process, cluster included), of everything after it (classify,
estimate, consolidate, then rendering the Markdown and the JSON report), and the peak RSS of the
bot's process and of the collector's. Kinds: ``createmodel`` (a model of two fields each),
``addfield`` (a nullable column each, all on one table: PostgreSQL allows 1,600 columns, so its
larger sizes are skipped), ``alterfield`` (one table's column retyped each time, varchar(n+1)),
``runsql`` (``CREATE TABLE tN (id serial PRIMARY KEY)`` each), ``addindex`` (an index on one
table's column each).

``--sqlmigrate URL`` also times ``manage.py sqlmigrate`` alone on the same migration, on a
database of that server migrated to the migration's parent (Django's own cost: it clones the
project state before every operation).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bot.pipeline  # noqa: E402
from bot.demo import FIXTURES, IDENTITY  # noqa: E402
from bot.render import render_markdown  # noqa: E402

KINDS = {
    "createmodel": "migrations.CreateModel(name='M{i}', fields=[('id', models.BigAutoField("
    "primary_key=True)), ('name', models.CharField(max_length=20))])",
    "addfield": "migrations.AddField('customer', 'f{i}', models.IntegerField(null=True))",
    "alterfield": "migrations.AlterField('product', 'sku', models.CharField(max_length={n}))",
    "runsql": "migrations.RunSQL('CREATE TABLE t{i} (id serial PRIMARY KEY)', "
    "migrations.RunSQL.noop)",
    "addindex": "migrations.AddIndex('product', models.Index(fields=['sku'], name='sku_{i}'))",
}
MAX_COLUMNS = 1600


def build(target: Path, kind: str, size: int) -> tuple[str, str]:
    """The demo's base project in a git repository, then one commit adding the huge migration."""
    shutil.copytree(FIXTURES / "base", target)
    git = ["git", "-C", str(target), *IDENTITY]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base", "--no-gpg-sign"], check=True)
    base = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    body = "".join(f"        {KINDS[kind].format(i=i, n=33 + i)},\n" for i in range(size))
    (target / "shop" / "migrations" / "0002_huge.py").write_text(
        "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0001_initial')]\n"
        f"    operations = [\n{body}    ]\n"
    )
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "huge", "--no-gpg-sign"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True)
    return base.stdout.strip(), head.stdout.strip()


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def one(kind: str, size: int, trace: bool) -> dict[str, object]:
    """Review the migration in this process: stage times and peak RSS."""
    folder = Path(tempfile.mkdtemp(prefix="mr-huge-"))
    try:
        base, head = build(folder / "project", kind, size)
        spent: dict[str, float] = {}
        collect = bot.pipeline.collect

        def timed_collect(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return collect(*args, **kwargs)  # type: ignore[arg-type]
            finally:
                spent["collect"] = time.perf_counter() - started

        bot.pipeline.collect = timed_collect  # type: ignore[assignment]
        options = bot.pipeline.ReviewOptions(
            repo=folder / "project", base=base, head=head, python=sys.executable,
            trace=trace, timeout=3600,
        )  # fmt: skip
        started = time.perf_counter()
        report = bot.pipeline.review(options)
        markdown = render_markdown(report, max_chars=65536)
        as_json = report.model_dump_json(indent=2)
        total = time.perf_counter() - started
        [huge] = [m for m in report.migrations if m.name == "0002_huge"]
        return {
            "collect": spent["collect"],
            "rest": total - spent["collect"],
            "bot_mb": peak_mb(resource.RUSAGE_SELF),
            "collector_mb": peak_mb(resource.RUSAGE_CHILDREN),
            "statements": len(huge.statements),
            "error": (huge.error.message[:120] if huge.error else None)
            or (report.errors[0].message[:120] if report.errors else None),
            "json_mb": len(as_json) / 1e6,
            "markdown_kb": len(markdown) / 1e3,
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sqlmigrate(kind: str, size: int, url: str) -> dict[str, object]:
    """``manage.py sqlmigrate shop 0002_huge`` alone, on a database at 0001_initial."""
    from urllib.parse import urlsplit

    import psycopg

    folder = Path(tempfile.mkdtemp(prefix="mr-huge-"))
    name = f"mr_bench_huge_{os.getpid()}"
    server = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        build(folder / "project", kind, size)
        env = {
            **os.environ, "DEMO_DB_NAME": name, "DEMO_DB_HOST": server.hostname or "",
            "DEMO_DB_USER": server.username or "postgres",
        }  # fmt: skip
        manage = [sys.executable, "manage.py"]
        cwd = folder / "project"
        subprocess.run([*manage, "migrate", "-v0", "shop", "0001"], cwd=cwd, env=env, check=True)
        started = time.perf_counter()
        done = subprocess.run(
            [*manage, "sqlmigrate", "shop", "0002_huge"],
            cwd=cwd, env=env, check=True, capture_output=True,
        )  # fmt: skip
        return {
            "sqlmigrate": time.perf_counter() - started,
            "sqlmigrate_mb": peak_mb(resource.RUSAGE_CHILDREN),
            "sql_mb": len(done.stdout) / 1e6,
        }
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--sizes", default="1000,2000,5000,10000")
    parser.add_argument("--no-trace", dest="trace", action="store_false")
    parser.add_argument("--sqlmigrate", metavar="URL")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--only-sqlmigrate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, size = args.one[0], int(args.one[1])
        if args.only_sqlmigrate:
            print(json.dumps(sqlmigrate(kind, size, args.sqlmigrate)))
        else:
            print(json.dumps(one(kind, size, args.trace)))
        return
    print(f"load: {os.getloadavg()[0]:.2f}; {'traced' if args.trace else 'not traced'}")
    print(
        f"{'kind':<11} {'ops':>6} {'collect s':>9} {'rest s':>7} {'bot MB':>7} "
        f"{'coll. MB':>8} {'JSON MB':>7} {'load':>5}"
        + ("  sqlmigrate s  MB" if args.sqlmigrate else "")
    )
    for kind in args.kinds.split(","):
        for size in map(int, args.sizes.split(",")):
            if kind == "addfield" and size >= MAX_COLUMNS:
                print(f"{kind:<11} {size:>6} skipped: PostgreSQL allows {MAX_COLUMNS} columns")
                continue
            command = [sys.executable, __file__, "--one", kind, str(size)]
            if not args.trace:
                command.append("--no-trace")
            row = json.loads(subprocess.run(command, check=True, capture_output=True).stdout)
            line = (
                f"{kind:<11} {size:>6} {row['collect']:>9.1f} {row['rest']:>7.1f} "
                f"{row['bot_mb']:>7.0f} {row['collector_mb']:>8.0f} {row['json_mb']:>7.1f} "
                f"{os.getloadavg()[0]:>5.2f}"
            )
            if args.sqlmigrate:
                alone_command = [*command, "--only-sqlmigrate", "--sqlmigrate", args.sqlmigrate]
                done = subprocess.run(alone_command, check=True, capture_output=True)
                alone = json.loads(done.stdout)
                line += f"  {alone['sqlmigrate']:>12.1f} {alone['sqlmigrate_mb']:>4.0f}"
            if row["error"]:
                line += f"  error: {row['error']}"
            print(line, flush=True)


if __name__ == "__main__":
    main()
