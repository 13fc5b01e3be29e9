"""Findings are annotated on the line of the operation they are about."""

from __future__ import annotations

from pathlib import Path

from bot.locate import operation_lines
from tests.conftest import FIXTURES

MIGRATION = """\
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]

    operations = [
        migrations.AddField(
            "order",
            "paid_at",
            models.DateTimeField(null=True),
        ),
        migrations.AddIndex(
            "order", models.Index(fields=["paid_at"], name="paid_idx")
        ),
    ]
"""


def test_each_operation_has_the_line_it_starts_on(tmp_path: Path) -> None:
    path = tmp_path / "0002_paid.py"
    path.write_text(MIGRATION)
    lines = MIGRATION.splitlines()
    class_line, operations = operation_lines(path)
    assert lines[class_line - 1].startswith("class Migration")
    assert [lines[n - 1].strip() for n in operations] == [
        "migrations.AddField(",
        "migrations.AddIndex(",
    ]


def test_the_demo_index_migration_points_at_its_add_index() -> None:
    path = next(FIXTURES.glob("demo/head/shop/migrations/0005_*.py"))
    _, operations = operation_lines(path)
    assert len(operations) == 1
    assert "migrations.AddIndex(" in path.read_text().splitlines()[operations[0] - 1]


def test_an_unparsable_or_unusual_file_falls_back_to_the_top(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("class Migration(:\n")
    assert operation_lines(broken) == (1, [])
    built = tmp_path / "built.py"
    built.write_text("OPS = []\n\n\nclass Migration:\n    operations = OPS + []\n")
    assert operation_lines(built) == (4, [])
