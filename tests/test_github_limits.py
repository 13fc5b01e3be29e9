"""GitHub's limits, through ``migration-review github`` against the fake API, which enforces
them as GitHub does (bytes where GitHub counts bytes, 422 beyond).

A review full of emoji and dashes fits 65,535 characters but not 65,535 bytes; a migration with
a long name makes an annotation title over 255 characters; beyond 10 annotations of a level per
step GitHub drops the rest silently; two projects in one repository need two check-run names.
"""

from __future__ import annotations

import re

from bot.models import Risk
from bot.render import render_markdown
from tests.fakegithub import MAX_ANNOTATION_TITLE_CHARS, MAX_OUTPUT_BYTES
from tests.test_github import HEAD, PR, make_migration, make_report
from tests.test_github_action import Runner, fake, runner, workflow_run_payload, write_report

__all__ = ["fake", "runner"]  # the fixtures, used by name

LONG_NAME = "0002_" + "add_an_index_on_the_status_of_every_order_" * 7


def big_report():
    """400 high-risk migrations, one with a name far over GitHub's title limit, and a few
    medium ones: the comment is cut, and its emoji make it larger in bytes than in characters."""
    migrations = [make_migration(LONG_NAME)]
    migrations += [
        make_migration(f"{n:04d}_order_status_index", sql_lines=3) for n in range(3, 400)
    ]
    migrations += [make_migration(f"{n:04d}_note", risk=Risk.medium) for n in range(400, 412)]
    return make_report(migrations, fail_on=Risk.high)


def test_the_check_run_summary_fits_githubs_byte_limit_and_titles_are_cut(
    runner: Runner, fake, capsys
) -> None:
    report = big_report()
    write_report(runner, report)
    runner.event("workflow_run", workflow_run_payload(pull_requests=[PR]))
    runner.inputs(mode="comment", check_run="true")

    assert runner.run() == 1
    out = capsys.readouterr().out
    assert "could not publish" not in out, out[-2000:]
    [run] = fake.check_runs.values()
    summary = run["output"]["summary"]
    as_many_chars = render_markdown(report, max_chars=MAX_OUTPUT_BYTES)
    assert len(as_many_chars.encode()) > MAX_OUTPUT_BYTES, "the case needs more bytes than chars"
    assert len(summary.encode()) <= MAX_OUTPUT_BYTES
    assert "shortened to fit" in summary
    assert len(run["annotations"]) == len(report.findings) == 410
    titles = [a["title"] for a in run["annotations"]]
    assert max(len(t) for t in titles) == MAX_ANNOTATION_TITLE_CHARS
    assert any(LONG_NAME[:100] in t and t.endswith("…") for t in titles)
    [comment] = fake.comments_on(PR)
    assert comment["body"].startswith("<!--")


def test_beyond_ten_annotations_per_level_the_tenth_says_how_many_more(
    runner: Runner, fake, capsys
) -> None:
    write_report(runner, big_report())
    runner.event("workflow_run", workflow_run_payload(pull_requests=[PR]))
    runner.inputs(mode="comment", check_run="true")

    runner.run()

    out = capsys.readouterr().out
    errors = re.findall(r"^::error .*$", out, flags=re.M)
    warnings = re.findall(r"^::warning .*$", out, flags=re.M)
    assert len(errors) == len(warnings) == 10
    assert "389 more error annotations are not shown here" in errors[-1]
    assert "All 398 are in the check run, the job summary and the report" in errors[-1]
    assert "3 more warning annotations" in warnings[-1]


def test_the_check_run_name_is_an_input(runner: Runner, fake) -> None:
    write_report(runner, make_report([make_migration("0002_x")]))
    runner.event("workflow_run", workflow_run_payload(pull_requests=[PR]))
    runner.inputs(mode="comment", check_run="true", check_name="migration-review (backend)")

    runner.run()

    [run] = fake.check_runs.values()
    assert run["name"] == "migration-review (backend)" and run["head_sha"] == HEAD
