"""MySQL/MariaDB end to end, on the real server at ``mysql_url``: the collector renders the kiosk
project's migrations exactly as ``manage.py sqlmigrate`` prints them, in a scratch database it
creates and drops; the probe's answer for every ALTER form agrees with the static classifier;
``analyze`` reviews a repository with verified verdicts; and tool errors exit 2, clearly.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pymysql
import pytest

from bot.classify import backend_for
from bot.cli import main
from bot.collect import collect
from bot.collector.mr_collector.errors import CollectorError
from bot.collector.mr_collector.mysql import ScratchDatabase
from bot.collector.mr_collector.probe import Prober
from bot.collector.mr_collector.scratch import SCRATCH_PREFIX
from bot.errors import ReviewError
from bot.models import CollectorOutput, MigrationReview, Report
from bot.render import render_markdown
from tests.kiosk import (
    KIOSK,
    MYSQL_SETTINGS,
    ROOT,
    build_repository,
    migration_file,
    new_migrations,
    sqlmigrate_outputs,
)
from tests.reviews import review_in_order

# The kiosk project's settings do this too: mysqlclient has no wheel here, PyMySQL stands in.
pymysql.install_as_MySQLdb()

MIN_FORMS = 25


def server_url(url: str) -> str:
    """``url`` without its database: what a user passes as --database-url."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


def scratch_databases(url: str) -> set[str]:
    parts = urlsplit(url)
    connection = pymysql.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username or "root"
    )
    try:
        cursor = connection.cursor()
        cursor.execute("SHOW DATABASES LIKE %s", (SCRATCH_PREFIX + "%",))
        return {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()


@pytest.fixture(scope="module")
def collected(mysql_url: str) -> tuple[CollectorOutput, float]:
    """Every kiosk form collected once on the server, with the time it took."""
    files = [migration_file(app, name) for app, name in new_migrations(mysql=True)]
    started = time.monotonic()
    output = collect(
        KIOSK, files, python=None, settings=MYSQL_SETTINGS, database_url=server_url(mysql_url)
    )
    return output, time.monotonic() - started


@pytest.fixture(scope="module")
def reviews(collected: tuple[CollectorOutput, float]) -> list[MigrationReview]:
    output = collected[0]
    return review_in_order(
        output.migrations, backend_for("mysql", server_version=output.server_version)
    )


def test_rendered_sql_is_what_sqlmigrate_prints(
    collected: tuple[CollectorOutput, float], mysql_url: str
) -> None:
    output = collected[0]
    assert output.backend == "mysql" and not output.errors
    assert output.server_version and output.server_version[0].isdigit()
    with ScratchDatabase(server_url(mysql_url)) as database:
        env = {"KIOSK_DATABASE_URL": database.url}
        expected = sqlmigrate_outputs(new_migrations(mysql=True), settings=MYSQL_SETTINGS, env=env)
    rendered = {f"{m.app_label}.{m.name}": m.sqlmigrate for m in output.migrations}
    assert rendered == expected
    # MySQL cannot roll DDL back: sqlmigrate prints no transaction around it.
    assert not any("BEGIN;" in text or "COMMIT;" in text for text in rendered.values())
    assert (
        "DROP INDEX `item_name_idx` ON `inventory_item`"
        in rendered["inventory.0021_remove_item_name_index"]
    )
    # Needs the live database: the unique index's name comes from introspection.
    assert (
        "DROP INDEX `inventory_item_ean_8c38ddf8_uniq`"
        in rendered["inventory.0023_item_ean_not_unique"]
    )


def test_statements_are_probed_in_the_scratch_database_which_is_dropped(
    collected: tuple[CollectorOutput, float], mysql_url: str
) -> None:
    output = collected[0]
    # Other runs share the server and make scratch databases of their own at any moment: the
    # ones this run announced are what must be gone.
    announced = set(re.findall(rf"scratch database ({SCRATCH_PREFIX}\w+)", output.database))
    assert announced, output.database
    assert not announced & scratch_databases(mysql_url)
    probed = [s for m in output.migrations for s in m.statements if s.trace]
    assert probed and all(s.trace.method in ("probe", "static-only") for s in probed)
    copy = next(
        s.trace
        for m in output.migrations
        for s in m.statements
        if m.name == "0010_item_quantity_bigint"
    )
    assert (copy.algorithm, [lock.mode for lock in copy.locks]) == ("COPY", ["SHARED"])
    assert "ALGORITHM=INSTANT" in (copy.note or "")  # refused first: that is the probe


def agreement_table(reviews: list[MigrationReview], seconds: float) -> str:
    rows = ["statement | static | probe | risk | agrees", "---|---|---|---|---"]
    probed = 0
    for migration in reviews:
        for statement in migration.statements:
            if statement.traced is None:
                continue
            probed += 1
            static, traced = statement.static.notes[0], statement.traced.notes[0]
            agrees = "yes" if not statement.disagreements else "; ".join(statement.disagreements)
            sql = " ".join(statement.sql.split())[:70]
            rows.append(f"{sql} | {static} | {traced} | {statement.final.risk} | {agrees}")
    agreeing = sum(1 for m in reviews for s in m.statements if s.traced and not s.disagreements)
    return "\n".join(
        [*rows, f"MariaDB probe: {probed} statements, {agreeing} agreeing; {seconds:.1f} s"]
    )


def test_probe_agrees_with_the_static_classifier(
    collected: tuple[CollectorOutput, float], reviews: list[MigrationReview]
) -> None:
    table = agreement_table(reviews, collected[1])
    print("\n" + table)
    traced = [s for m in reviews for s in m.statements if s.traced is not None]
    forms = {" ".join(s.sql.split()) for s in traced}
    assert len(forms) >= MIN_FORMS, table
    assert [s.sql for s in traced if s.disagreements] == [], table
    # A corpus of harmless changes would prove little: every algorithm and lock is in it.
    seen = {note.split(",")[0] for s in traced for note in s.traced.notes[:1]}
    assert seen == {f"ALGORITHM={a}" for a in ("INSTANT", "NOCOPY", "INPLACE", "COPY")}, table
    locks = {lock.mode for s in traced for lock in s.traced.locks}
    assert {"NONE", "SHARED"} <= locks, table
    risks = {s.final.risk for s in traced}
    assert {"low", "high"} <= risks, table


def test_findings_carry_the_mysql_rules_and_safer_code(reviews: list[MigrationReview]) -> None:
    by_name = {m.name: m for m in reviews}
    fk = by_name["0007_item_supplier"]
    assert [f.rule for f in fk.findings][:1] == ["MR-MYSQL-ADD-FOREIGN-KEY"]
    safer = fk.findings[0].safer or ""
    assert "SET SESSION foreign_key_checks = 0" in safer and "ALGORITHM=INPLACE" in safer
    copy = by_name["0010_item_quantity_bigint"]
    assert copy.findings[0].rule == "MR-MYSQL-COPY-ALTER" and copy.risk == "high"
    assert "pt-online-schema-change" in (copy.findings[0].safer or "")
    instant = by_name["0012_item_name_longer"]
    assert instant.statements[0].final.rewrite is False
    assert instant.statements[0].final.risk == "low"
    # Every ALTER waits for the metadata lock: without lock_wait_timeout, the migration says so.
    assert "MR-MYSQL-NO-LOCK-WAIT-TIMEOUT" in {f.rule for f in instant.findings}


def test_a_url_naming_a_database_with_tables_is_refused(mysql_url: str) -> None:
    """The URL's user owns its application's database and may create no other: a scratch
    database made before the refusal would have failed with another error, and other runs'
    scratch databases on the shared server cannot blur that."""
    name = f"mr_test_{secrets.token_hex(4)}"
    user = name
    hosts = ("localhost", "127.0.0.1")  # whichever the server matches a loopback client as
    parts = urlsplit(mysql_url)
    connection = pymysql.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username, autocommit=True
    )
    cursor = connection.cursor()
    cursor.execute(f"CREATE DATABASE {name}")
    try:
        cursor.execute(f"CREATE TABLE {name}.orders (id int PRIMARY KEY)")
        for host in hosts:
            cursor.execute(f"CREATE USER '{user}'@'{host}'")
            cursor.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'{host}'")
        address = f"{user}@{parts.netloc.rpartition('@')[2]}"
        url = urlunsplit((parts.scheme, address, f"/{name}", "", ""))
        as_user = pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=user)
        try:
            with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
                as_user.cursor().execute(f"CREATE DATABASE {SCRATCH_PREFIX}{secrets.token_hex(6)}")
        finally:
            as_user.close()
        with pytest.raises(ReviewError, match=f"refusing to use .*/{name}: that database holds 1"):
            collect(
                KIOSK,
                [migration_file("inventory", "0003_item_color")],
                python=None,
                settings=MYSQL_SETTINGS,
                database_url=url,
            )
        cursor.execute(f"SHOW TABLES FROM {name}")
        assert cursor.fetchall() == (("orders",),)
    finally:
        for host in hosts:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'{host}'")
        cursor.execute(f"DROP DATABASE {name}")
        connection.close()


def test_the_probe_refuses_a_database_the_tool_did_not_create(mysql_url: str) -> None:
    parts = urlsplit(mysql_url)
    connection = pymysql.connect(
        host=parts.hostname, port=parts.port or 3306, user=parts.username, database="mysql"
    )
    try:
        with pytest.raises(CollectorError, match="refusing to probe"):
            Prober(connection, "mysql", mariadb=True, version=(10, 11, 0))
    finally:
        connection.close()


def test_a_mysql_project_without_a_url_is_an_error_naming_its_settings() -> None:
    with pytest.raises(ReviewError) as caught:
        collect(
            KIOSK,
            [migration_file("inventory", "0003_item_color")],
            python=None,
            settings=MYSQL_SETTINGS,
            database_url=None,
        )
    error = caught.value.error
    assert "MySQL/MariaDB" in error.message and "no embedded MySQL" in error.message
    assert error.file == str((KIOSK / "kiosk" / "settings_mysql.py").relative_to(ROOT))
    assert "--database-url mysql://" in (error.hint or "")


@pytest.mark.parametrize(
    ("project", "settings", "url", "names"),
    [
        (
            KIOSK,
            MYSQL_SETTINGS,
            "postgresql://postgres@127.0.0.1:5432/postgres",
            ["postgresql://", "django.db.backends.mysql"],
        ),
        (
            ROOT / "tests" / "projects" / "shop",
            "shopsite.settings",
            "mysql://root@127.0.0.1:3306/",
            ["mysql://", "django.db.backends.postgresql"],
        ),
    ],
    ids=["mysql-project-postgresql-url", "postgresql-project-mysql-url"],
)
def test_a_url_of_another_backend_is_an_error_naming_both(
    project: Path, settings: str, url: str, names: list[str]
) -> None:
    with pytest.raises(ReviewError) as caught:
        collect(project, [], python=None, settings=settings, database_url=url)
    assert all(name in caught.value.error.message for name in names), caught.value.error


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("kiosk-mysql") / "project"
    build_repository(
        repo,
        head=[
            "0007_item_supplier",
            "0008_item_batch",
            "0009_remove_item_color",
            "0010_item_quantity_bigint",
        ],
    )
    return repo


def analyze(repository: Path) -> list[str]:
    return ["analyze", "--repo", str(repository), "--base", "main", "--settings", MYSQL_SETTINGS]


def test_analyze_reviews_a_repository_on_mariadb(
    repository: Path, mysql_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    database_url = ["--database-url", server_url(mysql_url)]
    code = main([*analyze(repository), *database_url, "--format", "json", "--output", str(out)])
    report = Report.model_validate_json(out.read_text())
    assert code == 1, capsys.readouterr().err  # the copies reach the default fail-on, high
    assert (report.backend, report.decision, report.errors) == ("mysql", "fail", [])
    assert report.pg_version is None and "MariaDB" in (report.server_version or "")
    labels = {m.label: m for m in report.migrations}
    assert set(labels) == {
        "inventory.0007_item_supplier",
        "inventory.0008_item_batch",
        "inventory.0009_remove_item_color",
        "inventory.0010_item_quantity_bigint",
    }
    statements = [s for m in report.migrations for s in m.statements]
    assert statements and all(s.final.source == "traced" for s in statements)
    assert labels["inventory.0010_item_quantity_bigint"].statements[0].final.blocks == "writes"
    assert labels["inventory.0008_item_batch"].risk == "low"
    markdown = render_markdown(report)
    assert "## 🔴 Migration review on MariaDB: 3 high-risk migrations of 4" in markdown
    assert "Locks verified on MariaDB" in markdown and "(probe)" in markdown
    assert "BEGIN;" not in markdown  # MySQL commits each statement: no transaction shown


def test_analyze_without_a_url_exits_2_naming_the_settings(
    repository: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(analyze(repository))
    err = capsys.readouterr().err
    assert code == 2
    assert "kiosk/settings_mysql.py" in err and "--database-url mysql://" in err


def test_analyze_json_of_a_url_mismatch_is_an_error_report(
    repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"
    database_url = ["--database-url", "postgresql://postgres@127.0.0.1:5432/postgres"]
    code = main([*analyze(repository), *database_url, "--format", "json", "--output", str(out)])
    report = json.loads(out.read_text())
    assert code == 2 and report["decision"] == "error"
    assert "postgresql://" in report["errors"][0]["message"]


def test_the_probe_falls_back_to_the_statement_as_written(mysql_url: str) -> None:
    """A clause the server takes no ALGORITHM after runs as written; a statement that fails
    fails as written too, with the server's own error."""
    with ScratchDatabase(server_url(mysql_url)) as database:
        parts = urlsplit(mysql_url)
        connection = pymysql.connect(
            host=parts.hostname,
            port=parts.port or 3306,
            user=parts.username,
            database=database.name,
            autocommit=True,
        )
        cursor = connection.cursor()

        def run(sql: str) -> int:
            cursor.execute(sql)
            return int(cursor.rowcount)

        try:
            run("CREATE TABLE t (id int PRIMARY KEY, v int NULL)")
            run("INSERT INTO t VALUES (1, NULL)")
            prober = Prober(connection, database.name, mariadb=True, version=(10, 11, 0))
            partition = "ALTER TABLE t PARTITION BY KEY (id) PARTITIONS 2"
            traced = prober.trace(
                0, partition, lambda sql=partition: run(sql), in_transaction=False
            )
            assert traced["method"] == "static-only" and "ran as written" in traced["note"]
            cursor.execute(
                "SELECT count(*) FROM information_schema.partitions "
                "WHERE table_schema = DATABASE() AND table_name = 't'"
            )
            assert cursor.fetchone()[0] == 2
            not_null = "ALTER TABLE t MODIFY v int NOT NULL"
            with pytest.raises(pymysql.err.MySQLError, match="Data truncated"):
                prober.trace(1, not_null, lambda sql=not_null: run(sql), in_transaction=False)
        finally:
            connection.close()


def test_pymysql_stands_in_for_a_missing_mysqlclient(mysql_url: str) -> None:
    """A project written for mysqlclient, reviewed where only PyMySQL is installed (the
    action's image has no compiler to build mysqlclient)."""
    collector_python = subprocess.run(
        [sys.executable, "-I", "-c", "import MySQLdb"], capture_output=True, check=False
    )
    assert collector_python.returncode != 0, "mysqlclient is installed: nothing stands in"
    output = collect(
        KIOSK,
        [migration_file("inventory", "0003_item_color")],
        python=None,
        settings="kiosk.settings_mysqlclient",
        database_url=server_url(mysql_url),
    )
    assert output.backend == "mysql"
    [migration] = output.migrations
    assert migration.error is None, migration.error
    assert "ALTER TABLE `inventory_item` ADD COLUMN `color`" in migration.sqlmigrate
