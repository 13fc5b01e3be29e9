"""The collector on a real Django project (tests/projects/shop) and a real PostgreSQL.

It must print what ``manage.py sqlmigrate`` prints, map files through Django's loader, report
errors per migration, leave no cluster or database behind on any way out, and never see the
GitHub token.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

from bot.collect import collect
from bot.collector import COLLECTOR_DIR
from bot.collector.mr_collector.cluster import ScratchDatabase
from bot.errors import ReviewError
from bot.models import ChangeKind, CollectorOutput, MigrationFile
from bot.secret_env import without_secrets
from tests.test_cluster import databases, processes_using

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "tests" / "projects" / "shop"
NEW = [
    "0003_product_code_not_unique",
    "0004_product_category_loose",
    "0005_product_name_index",
    "0006_backfill_note",
    "0007_price_bigint_stock",
    "0008_sku_drop_name_index",
]


def shop_file(name: str, app: str = "catalog", change: str = "added") -> MigrationFile:
    path = (SHOP / app / "migrations" / f"{name}.py").relative_to(ROOT)
    return MigrationFile(path=str(path), change=ChangeKind(change))


def scratch_name(output: CollectorOutput) -> str:
    match = re.search(r"scratch database (mr_scratch_\w+)", output.database)
    assert match, output.database
    return match.group(1)


def manage(*args: str, database_url: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=SHOP,
        env={**without_secrets(), "SHOP_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def collected(pg_url: str) -> CollectorOutput:
    """The five new shop migrations, collected once on the server at pg_url."""
    files = [shop_file(name) for name in NEW]
    output = collect(SHOP, files, python=None, settings=None, database_url=pg_url)
    assert [file.app_label for file in files] == ["store"] * len(NEW)
    assert [file.name for file in files] == NEW
    return output


def test_rendered_sql_is_what_sqlmigrate_prints(collected: CollectorOutput, pg_url: str) -> None:
    expected = {}
    with ScratchDatabase(pg_url) as database:
        manage("migrate", "store", "0002", database_url=database.url)
        for name in NEW:
            expected[name] = manage("sqlmigrate", "store", name, database_url=database.url)
            manage("migrate", "store", name, database_url=database.url)
    rendered = {m.name: m.sqlmigrate for m in collected.migrations}
    assert rendered == expected
    # The cases that need a live database at the right state and the non-atomic one.
    assert 'DROP CONSTRAINT "store_product_code_key"' in rendered["0003_product_code_not_unique"]
    assert "_fk_store_category_id" in rendered["0004_product_category_loose"]
    assert rendered["0005_product_name_index"].startswith("--")
    assert "CREATE INDEX CONCURRENTLY" in rendered["0005_product_name_index"]


def test_statements_belong_to_their_operations(collected: CollectorOutput) -> None:
    by_name = {m.name: m for m in collected.migrations}
    assert not collected.errors and all(m.error is None for m in collected.migrations)
    for migration in collected.migrations:
        body = migration.sqlmigrate
        assert [s.sql for s in migration.statements] == [
            line for line in body.splitlines() if line and not line.startswith("--")
        ][(1 if migration.atomic else 0) : (-1 if migration.atomic else None)]
        owned = sorted(i for op in migration.operations for i in op.statements)
        assert owned == [s.index for s in migration.statements]
    note = by_name["0007_price_bigint_stock"]
    assert [op.statements for op in note.operations] == [[0], [1, 2], [3, 4, 5, 6]]
    backfill = by_name["0006_backfill_note"]
    assert [op.kind for op in backfill.operations] == ["RunSQL", "RunPython", "RunSQL"]
    assert backfill.operations[1].statements == []
    assert backfill.operations[1].code == "catalog.migrations.0006_backfill_note.backfill_note"


def test_field_details_come_from_the_states_around_the_operation(
    collected: CollectorOutput,
) -> None:
    by_name = {m.name: m for m in collected.migrations}
    code = by_name["0003_product_code_not_unique"].operations[0]
    assert (code.model, code.table, code.field_name) == ("product", "store_product", "code")
    assert code.old_field is not None and code.old_field.unique
    assert code.field is not None and not code.field.unique
    assert code.field.type == "django.db.models.CharField"
    assert code.field.db_type == "varchar(20)"
    fk = by_name["0004_product_category_loose"].operations[0]
    assert fk.old_field is not None and fk.field is not None
    assert (fk.old_field.on_delete, fk.field.on_delete) == ("CASCADE", "SET_NULL")
    assert (fk.old_field.db_constraint, fk.field.db_constraint) == (True, False)
    assert fk.field.relation == "store.Category"
    stock = by_name["0007_price_bigint_stock"].operations[1]
    assert stock.field is not None and stock.field.has_default and stock.field.default == "0"
    assert stock.old_field is None
    assert by_name["0005_product_name_index"].atomic is False


def test_a_failed_migration_stops_its_dependents_only(pg_url: str) -> None:
    files = [
        shop_file("0002_fails", app="broken"),
        shop_file("0003_after", app="broken"),
        shop_file("0003_product_code_not_unique"),
    ]
    output = collect(SHOP, files, python=None, settings=None, database_url=pg_url)
    by_name = {m.name: m for m in output.migrations}
    failed = by_name["0002_fails"].error
    assert failed is not None and failed.file == files[0].path
    assert 'relation "broken_missing" does not exist' in failed.message
    assert failed.hint
    assert by_name["0002_fails"].statements[0].trace is not None
    assert by_name["0002_fails"].statements[0].trace.method == "static-only"
    blocked = by_name["0003_after"].error
    assert blocked is not None and "broken.0002_fails" in blocked.message
    assert blocked.file == files[1].path
    assert by_name["0003_product_code_not_unique"].error is None
    assert scratch_name(output) not in databases(pg_url)


def test_a_squashed_migration_and_the_ones_it_replaces_apply_once(pg_url: str) -> None:
    files = [shop_file("0001_initial", app="audit"), shop_file("0003_account_note", app="ledger")]
    output = collect(SHOP, files, python=None, settings=None, database_url=pg_url)
    assert [(m.app_label, m.name, m.error) for m in output.migrations] == [
        ("audit", "0001_initial", None),
        ("ledger", "0003_account_note", None),
    ]
    assert output.errors == []


def test_unknown_files_are_errors_naming_them(pg_url: str) -> None:
    stray = MigrationFile(path="tests/projects/shop/docs/migrations/0001_x.py", change="added")
    gone = shop_file("0002_product_note", change="deleted")
    output = collect(SHOP, [stray, gone], python=None, settings=None, database_url=pg_url)
    assert output.migrations == []
    assert [error.file for error in output.errors] == [stray.path]
    assert "INSTALLED_APPS" in (output.errors[0].hint or "")


def test_embedded_cluster_is_gone_after_the_run(pg_bin: Path) -> None:
    output = collect(
        SHOP,
        [shop_file("0003_product_code_not_unique"), shop_file("0002_fails", app="broken")],
        python=None,
        settings=None,
        database_url=None,
        pg_bin=pg_bin,
    )
    assert output.database.startswith("embedded PostgreSQL")
    assert output.server_version_num and output.server_version_num >= 100000
    assert [m.error is None for m in output.migrations] == [False, True]
    directory = Path(re.search(r", (/[^)]+)\)", output.database).group(1))
    assert not directory.exists()
    assert processes_using(directory) == []


def test_a_migration_that_does_not_import_is_named(tmp_path: Path, pg_url: str) -> None:
    project = tmp_path / "shop"
    shutil.copytree(SHOP, project, ignore=shutil.ignore_patterns("__pycache__"))
    bad = "catalog/migrations/0009_bad.py"
    (project / bad).write_text("from django.db import migrations\n\nclass Migration(:\n")
    files = [MigrationFile(path=bad, change=ChangeKind.added)]
    with pytest.raises(ReviewError) as error:
        collect(project, files, python=None, settings=None, database_url=pg_url)
    assert error.value.error.file == bad
    assert "SyntaxError" in error.value.error.message


def test_settings_that_do_not_import_raise_a_review_error(pg_url: str) -> None:
    with pytest.raises(ReviewError) as error:
        collect(SHOP, [], python=None, settings="shopsite.nope", database_url=pg_url)
    assert error.value.error.stage == "collect"
    assert "shopsite.nope" in error.value.error.message
    assert error.value.error.hint


def test_an_interpreter_that_cannot_run_the_collector_is_a_review_error(pg_url: str) -> None:
    with pytest.raises(ReviewError) as error:
        collect(SHOP, [], python="/bin/false", settings=None, database_url=pg_url)
    assert "without a report" in error.value.error.message
    assert "--python" in (error.value.error.hint or "")


def test_an_interpreter_without_django_gets_a_hint(tmp_path: Path, pg_url: str) -> None:
    venv.create(tmp_path / "env", with_pip=False)
    python = str(tmp_path / "env" / "bin" / "python")
    with pytest.raises(ReviewError) as error:
        collect(SHOP, [], python=python, settings=None, database_url=pg_url)
    assert error.value.error.message == f"Django cannot be imported by {python}"
    assert "--python" in (error.value.error.hint or "")


def test_the_collector_never_sees_the_token(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "ghs_not_for_pull_requests_0123456789"
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "INPUT_GITHUB-TOKEN", "ACTIONS_RUNTIME_TOKEN"):
        monkeypatch.setenv(name, secret)
    monkeypatch.setenv("SOME_COPY", secret)
    monkeypatch.setenv("COPY_WITH_NEWLINE", secret + "\n")
    monkeypatch.setenv("PIP_INDEX_URL", f"https://x-access-token:{secret}@pypi.example/simple")
    monkeypatch.setenv("DEPLOY_REGION", "eu-west")
    dump = tmp_path / "environ.json"
    monkeypatch.setenv("MR_TEST_ENV_DUMP", str(dump))
    collect(SHOP, [], python=None, settings=None, database_url=pg_url)
    seen = json.loads(dump.read_text())
    assert seen["DEPLOY_REGION"] == "eu-west"
    assert not {"GITHUB_TOKEN", "GH_TOKEN", "INPUT_GITHUB-TOKEN", "SOME_COPY"} & set(seen)
    assert not {"COPY_WITH_NEWLINE", "PIP_INDEX_URL"} & set(seen)
    assert secret not in json.dumps(seen)


def start_held_collector(
    tmp_path: Path, database_url: str | None, pg_bin: Path
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """A collector stopped inside 0006's RunPython, with its cluster and database in use."""
    hold = tmp_path / "hold.json"
    request = {
        "mode": "migrations",
        "project_dir": str(SHOP),
        "repo_root": str(ROOT),
        "database_url": database_url,
        "pg_bin": str(pg_bin),
        "files": [shop_file("0006_backfill_note").model_dump(mode="json")],
    }
    process = subprocess.Popen(
        [sys.executable, "-I", str(COLLECTOR_DIR)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**without_secrets(), "MR_TEST_HOLD": str(hold)},
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(request))
    process.stdin.close()
    deadline = time.monotonic() + 120
    while not hold.exists() or not hold.read_text():
        assert process.poll() is None, "the collector ended before reaching the RunPython"
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return process, json.loads(hold.read_text())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_embedded_cluster(tmp_path: Path, pg_bin: Path, signum: int) -> None:
    process, where = start_held_collector(tmp_path, None, pg_bin)
    cluster = Path(where["data_directory"]).parent
    assert cluster.exists() and processes_using(cluster)
    process.send_signal(signum)
    assert process.wait(timeout=60) == 128 + signum
    report = json.loads(process.stdout.read())
    assert "interrupted" in report["errors"][0]["message"]
    assert not cluster.exists()
    assert processes_using(cluster) == []


def test_a_signal_drops_the_scratch_database(tmp_path: Path, pg_url: str, pg_bin: Path) -> None:
    process, where = start_held_collector(tmp_path, pg_url, pg_bin)
    assert where["database"] in databases(pg_url)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM
    assert where["database"] not in databases(pg_url)


def test_a_collector_that_takes_too_long_is_stopped_and_cleans_up(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold = tmp_path / "hold.json"
    monkeypatch.setenv("MR_TEST_HOLD", str(hold))
    with pytest.raises(ReviewError) as error:
        collect(
            SHOP,
            [shop_file("0006_backfill_note")],
            python=None,
            settings=None,
            database_url=pg_url,
            timeout=10,
        )
    assert "did not finish within 10 s" in error.value.error.message
    assert json.loads(hold.read_text())["database"] not in databases(pg_url)


def test_ctrl_c_in_the_bot_still_stops_the_cluster(tmp_path: Path, pg_bin: Path) -> None:
    hold = tmp_path / "hold.json"
    # Ctrl-C as in a terminal, even when the tests run as a background job (SIGINT ignored).
    script = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from pathlib import Path\n"
        "from bot.collect import collect\n"
        "from bot.models import MigrationFile\n"
        "collect(Path(sys.argv[1]), [MigrationFile(path=sys.argv[2], change='added')],\n"
        "        python=None, settings=None, database_url=None, pg_bin=Path(sys.argv[3]))\n"
    )
    bot = subprocess.Popen(
        [sys.executable, "-c", script, str(SHOP), shop_file("0006_backfill_note").path, pg_bin],
        cwd=ROOT,
        env={**os.environ, "MR_TEST_HOLD": str(hold)},
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not hold.exists() or not hold.read_text():
        assert bot.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    cluster = Path(json.loads(hold.read_text())["data_directory"]).parent
    bot.send_signal(signal.SIGINT)  # to the bot alone: it must pass the stop on
    bot.wait(timeout=90)
    assert "KeyboardInterrupt" in bot.stderr.read()
    assert not cluster.exists()
    assert processes_using(cluster) == []
