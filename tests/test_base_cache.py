"""Base-state snapshots on a real PostgreSQL (embedded cluster and a URL): a warm run restores the
base the cold run saved and reviews exactly the same; a moved base reuses the largest snapshot it
contains; a corrupt or lying snapshot, an edited migration, two runs at once and an unwritable
folder never change a review."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from bot.collect import collect
from bot.collector.mr_collector import cache as snapshot
from bot.collector.mr_collector.cluster import EmbeddedCluster
from bot.demo import build_repository
from bot.models import BaseState, ChangeKind, CollectorOutput, MigrationFile, Report
from bot.pipeline import ReviewOptions, review
from bot.render import render_markdown
from bot.secret_env import without_secrets
from tests.test_cluster import databases

SHOP = Path(__file__).resolve().parent / "projects" / "shop"
CATALOG = [
    "0003_product_code_not_unique",
    "0004_product_category_loose",
    "0005_product_name_index",
    "0006_backfill_note",
    "0007_price_bigint_stock",
    "0008_sku_drop_name_index",
]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of the shop project, which a test may edit."""
    target = tmp_path / "shop"
    shutil.copytree(SHOP, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(params=["embedded", "url"])
def server(request: pytest.FixtureRequest) -> str | None:
    """None for the embedded cluster, else the URL of the running server."""
    if request.param == "embedded":
        request.getfixturevalue("pg_bin")
        return None
    return str(request.getfixturevalue("pg_url"))


def files(*names: str) -> list[MigrationFile]:
    return [
        MigrationFile(path=f"catalog/migrations/{name}.py", change=ChangeKind.added)
        for name in names
    ]


def run(
    project: Path, names: list[str], cache: Path | None, server: str | None = None
) -> CollectorOutput:
    return collect(
        project, files(*names), python=None, settings=None, database_url=server, cache_dir=cache
    )


def reviewed(output: CollectorOutput) -> list[dict]:
    """The review's content, without how long each traced statement took."""
    assert output.errors == [] and all(m.error is None for m in output.migrations)
    return [untimed(m.model_dump(mode="json")) for m in output.migrations]


def untimed(value: object) -> object:
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k != "duration_ms"}
    if isinstance(value, list):
        return [untimed(item) for item in value]
    return value


def snapshots(cache: Path) -> list[Path]:
    """The base-state snapshots (the embedded cluster's initdb folder aside)."""
    return sorted(path.parent for path in (cache / "snapshots").glob(f"*/{snapshot.MANIFEST}"))


def test_a_warm_run_restores_the_base_and_reviews_the_same(
    shop: Path, tmp_path: Path, server: str | None
) -> None:
    cache = tmp_path / "cache"
    uncached = run(shop, CATALOG, None, server)
    cold = run(shop, CATALOG, cache, server)
    warm = run(shop, CATALOG, cache, server)
    assert uncached.base_state is not None and uncached.base_state.cache == "off"
    assert cold.base_state is not None and warm.base_state is not None
    assert (cold.base_state.cache, cold.base_state.applied, cold.base_state.saved) == (
        "miss", 2, True,
    )  # fmt: skip
    assert (warm.base_state.cache, warm.base_state.restored, warm.base_state.applied) == (
        "hit", 2, 0,
    )  # fmt: skip
    assert not warm.base_state.saved and warm.base_state.notes == []
    assert reviewed(warm) == reviewed(cold) == reviewed(uncached)
    [saved] = snapshots(cache)
    manifest = json.loads((saved / snapshot.MANIFEST).read_text())
    assert [entry[:2] for entry in manifest["applied"]] == [
        ["store", "0001_initial"],
        ["store", "0002_product_note"],
    ]
    assert manifest["fingerprint"]["backend"] == "postgresql"
    assert manifest["fingerprint"]["alias"] == "default"
    if server is not None:
        assert not {d for d in databases(server) if d.startswith("mr_scratch_")} & {
            cold.database.split()[-1],
            warm.database.split()[-1],
        }


def test_a_moved_base_restores_the_largest_snapshot_it_contains(
    shop: Path, tmp_path: Path, server: str | None
) -> None:
    cache = tmp_path / "cache"
    run(shop, CATALOG, cache, server)  # saves store.0001-0002
    # Main merged 0003 and 0004: the next pull request adds only the later ones.
    moved = run(shop, CATALOG[2:], cache, server)
    assert moved.base_state is not None
    assert (moved.base_state.cache, moved.base_state.restored, moved.base_state.applied) == (
        "prefix", 2, 2,
    )  # fmt: skip
    assert moved.base_state.migrations == 4 and moved.base_state.saved
    again = run(shop, CATALOG[2:], cache, server)
    assert again.base_state is not None
    assert (again.base_state.cache, again.base_state.restored) == ("hit", 4)
    assert reviewed(moved) == reviewed(again) == reviewed(run(shop, CATALOG[2:], None, server))
    assert len(snapshots(cache)) == 2
    # A pull request that needs less than any snapshot holds uses none of them.
    earlier = run(shop, CATALOG, cache, server)
    assert earlier.base_state is not None and earlier.base_state.cache == "hit"
    first = run(shop, ["0002_product_note", *CATALOG], cache, server)
    assert first.base_state is not None
    assert (first.base_state.cache, first.base_state.restored) == ("miss", 0)


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_corrupt_snapshot_falls_back_with_a_note(
    shop: Path, tmp_path: Path, server: str | None, damage: str
) -> None:
    cache = tmp_path / "cache"
    cold = run(shop, CATALOG, cache, server)
    [saved] = snapshots(cache)
    archive = saved / snapshot.ARCHIVE
    data = archive.read_bytes()
    if damage == "truncated":
        archive.write_bytes(data[: len(data) // 2])
    else:
        archive.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    fallback = run(shop, CATALOG, cache, server)
    assert fallback.base_state is not None
    assert (fallback.base_state.cache, fallback.base_state.restored) == ("fallback", 0)
    assert fallback.base_state.applied == 2
    [note] = fallback.base_state.notes
    assert "could not be used" in note and "corrupt or truncated" in note
    assert reviewed(fallback) == reviewed(cold)
    # The damaged snapshot is gone and a sound one took its place.
    assert len(snapshots(cache)) == 1
    hit = run(shop, CATALOG, cache, server)
    assert hit.base_state is not None and hit.base_state.cache == "hit"


def test_a_snapshot_whose_table_disagrees_is_not_trusted(shop: Path, tmp_path: Path) -> None:
    """The archive is sound but holds another applied set than its manifest says: restored,
    checked against django_migrations, emptied again, and the base built from scratch."""
    cache = tmp_path / "cache"
    run(shop, CATALOG[1:], cache)  # store.0001-0003 in the archive
    [saved] = snapshots(cache)
    manifest = json.loads((saved / snapshot.MANIFEST).read_text())
    manifest["applied"] = manifest["applied"][:2]  # claims 0001-0002 only
    (saved / snapshot.MANIFEST).write_text(json.dumps(manifest))
    lying = run(shop, CATALOG, cache)
    assert lying.base_state is not None and lying.base_state.cache == "fallback"
    assert "django_migrations" in lying.base_state.notes[0]
    assert "1 unexpected" in lying.base_state.notes[0]
    assert reviewed(lying) == reviewed(run(shop, CATALOG, None))


def test_an_edited_applied_migration_invalidates_the_snapshots_holding_it(
    shop: Path, tmp_path: Path, server: str | None
) -> None:
    cache = tmp_path / "cache"
    run(shop, CATALOG, cache, server)
    initial = shop / "catalog" / "migrations" / "0001_initial.py"
    initial.write_text(initial.read_text() + "\n# edited after it was applied\n")
    edited = run(shop, CATALOG, cache, server)
    assert edited.base_state is not None
    assert (edited.base_state.cache, edited.base_state.restored) == ("miss", 0)
    assert edited.base_state.saved and len(snapshots(cache)) == 2
    # A deleted one too: the pull request no longer needs what the snapshots hold.
    (shop / "catalog" / "migrations" / "0002_product_note.py").unlink()
    dependency = shop / "catalog" / "migrations" / "0003_product_code_not_unique.py"
    dependency.write_text(dependency.read_text().replace("0002_product_note", "0001_initial"))
    gone = run(shop, CATALOG[1:], cache, server)
    assert gone.base_state is not None and gone.base_state.cache == "miss"


def test_two_runs_at_once_share_a_folder(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    outputs: list[CollectorOutput] = []
    threads = [
        threading.Thread(target=lambda: outputs.append(run(shop, CATALOG, cache))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outputs) == 2
    assert reviewed(outputs[0]) == reviewed(outputs[1])
    # One snapshot, whole: nothing temporary left, the archive matches its digest.
    [saved] = snapshots(cache)
    assert not [path for path in (cache / "snapshots").rglob(".*")]
    manifest = json.loads((saved / snapshot.MANIFEST).read_text())
    with open(saved / snapshot.ARCHIVE, "rb") as archive:
        assert snapshot.file_digest(archive) == manifest["archive_sha256"]
    warm = run(shop, CATALOG, cache)
    assert warm.base_state is not None and warm.base_state.cache == "hit"


def test_an_unwritable_folder_is_a_note_not_a_failure(shop: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    output = run(shop, CATALOG, blocked)
    assert output.base_state is not None and not output.base_state.saved
    [note] = output.base_state.notes
    assert note.startswith("the base state was not saved to the cache folder")
    assert reviewed(output) == reviewed(run(shop, CATALOG, None))


def test_a_squashed_history_restores_as_it_was_applied(shop: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ledger = [
        MigrationFile(path="audit/migrations/0001_initial.py", change=ChangeKind.added),
        MigrationFile(path="ledger/migrations/0003_account_note.py", change=ChangeKind.added),
    ]
    cold = collect(shop, ledger, python=None, settings=None, database_url=None, cache_dir=cache)
    warm = collect(shop, ledger, python=None, settings=None, database_url=None, cache_dir=cache)
    assert warm.base_state is not None and warm.base_state.cache == "hit"
    assert reviewed(warm) == reviewed(cold)


def test_pruning_removes_the_least_recently_used_past_the_limit(tmp_path: Path) -> None:
    store = snapshot.Store(tmp_path, {"backend": "postgresql"}, limit=3000)
    saved = []
    for number in range(3):
        applied = {("app", f"000{index}"): "d" for index in range(number + 1)}
        saved.append(store.save(applied, lambda path: path.write_bytes(b"x" * 1000)))
        os.utime(saved[-1] / snapshot.MANIFEST, (1000.0 + number, 1000.0 + number))
        store.prune()
    assert [path.exists() for path in saved] == [False, True, True]
    needed = {("app", f"000{index}"): "d" for index in range(5)}
    best = store.best(needed)
    assert best is not None and best.folder == saved[2]
    # A digest that differs for one migration rules out every snapshot holding it.
    assert store.best({**needed, ("app", "0001"): "other"}) is None


def test_warm_and_cold_reviews_differ_only_in_the_footer_line(tmp_path: Path, pg_bin: Path) -> None:
    repo = tmp_path / "demo"
    base, head = build_repository(repo)
    options = ReviewOptions(
        repo=repo, base=base, head=head, python=sys.executable, cache_dir=tmp_path / "cache"
    )
    cold, warm = review(options), review(options)
    assert cold.base_state is not None and warm.base_state is not None
    assert (cold.base_state.cache, warm.base_state.cache) == ("miss", "hit")

    def lines(text: str) -> list[str]:
        footer = ("<sub>base state", "<sub>django-migration-review")
        return [line for line in text.splitlines() if not line.startswith(footer)]

    cold_text = render_markdown(cold)
    warm_text = render_markdown(warm)
    assert lines(cold_text) == lines(warm_text)
    migrations = cold.base_state.migrations
    assert f"<sub>base state built from scratch: {migrations} migrations, " in cold_text
    assert "; saved to `cache-dir` for the next run</sub>" in cold_text
    assert f"<sub>base state restored from cache: {migrations} migrations (" in warm_text
    uncached = review(ReviewOptions(repo=repo, base=base, head=head, python=sys.executable))
    assert "; with `cache-dir` the next run restores it</sub>" in render_markdown(uncached)


def test_the_embedded_cluster_starts_from_the_kept_initdb_folder(
    tmp_path: Path, pg_bin: Path
) -> None:
    seed = snapshot.ClusterSeed(tmp_path / "cache", pg_bin)
    with EmbeddedCluster(pg_bin, seed) as first:
        assert not first.seeded
    assert seed.archive.is_file()
    with EmbeddedCluster(pg_bin, seed) as second, psycopg.connect(second.url) as connection:
        assert second.seeded
        assert connection.execute("SELECT 1").fetchone() == (1,)
    # A damaged copy is not used: initdb runs, and a sound copy replaces it.
    seed.archive.write_bytes(seed.archive.read_bytes()[:-4096])
    with EmbeddedCluster(pg_bin, seed) as third:
        assert not third.seeded
    with EmbeddedCluster(pg_bin, seed) as fourth:
        assert fourth.seeded


@pytest.mark.parametrize(
    ("state", "line"),
    [
        (
            BaseState(migrations=263, restored=260, applied=3, seconds=0.93, cache="prefix"),
            "<sub>base state restored from cache, 3 migrations applied since (0.9 s)</sub>",
        ),
        (
            BaseState(migrations=263, applied=263, seconds=280.2, cache="off"),
            "<sub>base state built from scratch: 263 migrations, 4.7 min; with `cache-dir` the "
            "next run restores it</sub>",
        ),
        (
            BaseState(
                migrations=2,
                applied=2,
                seconds=0.4,
                cache="fallback",
                saved=True,
                notes=["the cached base state abc could not be used (@team broke it)"],
            ),
            "<sub>base state built from scratch: 2 migrations, 0.4 s; saved to `cache-dir` for "
            "the next run · the cached base state abc could not be used (",
        ),
    ],
)
def test_the_footer_says_what_happened(state: BaseState, line: str) -> None:
    text = render_markdown(Report(tool_version="0.1.0", base_state=state))
    assert line in text
    assert "@team" not in text  # a note is text, never a mention


def test_django_migrates_on_from_a_squashed_base_the_collector_saved(
    shop: Path, tmp_path: Path, pg_url: str, pg_bin: Path
) -> None:
    """As in NetBox, only the squashed migration is left and later ones name it. Its snapshot
    records it as ``migrate`` does (each replaced migration, then itself), so Django's own
    ``migrate`` goes on from the restored base, and a warm run still trusts the snapshot."""
    migrations = shop / "ledger" / "migrations"
    for replaced in ("0001_initial.py", "0002_account_owner.py"):
        (migrations / replaced).unlink()
    later = migrations / "0003_account_note.py"
    later.write_text(
        later.read_text().replace('"0002_account_owner"', '"0001_squashed_0002_account_owner"')
    )
    new = [MigrationFile(path="ledger/migrations/0003_account_note.py", change=ChangeKind.added)]
    cache = tmp_path / "cache"
    cold = collect(shop, new, python=None, settings=None, database_url=pg_url, cache_dir=cache)
    [saved] = snapshots(cache)
    restored, migrated = (f"mr_test_squash_{os.getpid()}_{kind}" for kind in ("restored", "empty"))
    url = pg_url[: pg_url.rindex("/")]
    with psycopg.connect(pg_url, autocommit=True) as connection:
        for name in (restored, migrated):
            connection.execute(f"CREATE DATABASE {name}")
    try:
        subprocess.run(
            [
                pg_bin / "pg_restore",
                "--no-owner",
                f"--dbname={url}/{restored}",
                saved / snapshot.ARCHIVE,
            ],
            check=True,
        )
        for name in (restored, migrated):
            done = manage(shop, "migrate", "ledger", "--no-input", database_url=f"{url}/{name}")
            assert done.returncode == 0, done.stderr
        assert (
            rows(f"{url}/{restored}")
            == rows(f"{url}/{migrated}")
            == {
                ("ledger", "0001_initial"),
                ("ledger", "0002_account_owner"),
                ("ledger", "0001_squashed_0002_account_owner"),
                ("ledger", "0003_account_note"),
            }
        )
    finally:
        with psycopg.connect(pg_url, autocommit=True) as connection:
            for name in (restored, migrated):
                connection.execute(f"DROP DATABASE IF EXISTS {name}")
    warm = collect(shop, new, python=None, settings=None, database_url=pg_url, cache_dir=cache)
    assert warm.base_state is not None and warm.base_state.cache == "hit"
    assert reviewed(warm) == reviewed(cold)


def manage(project: Path, *args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env={**without_secrets(), "SHOP_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
    )


def rows(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as connection:
        return {
            (app, name)
            for app, name in connection.execute("SELECT app, name FROM django_migrations")
        }
