"""Generates docs/rules.md from the rule catalogue, so the two cannot drift apart.

python -m bot.classify.docs          # rewrite docs/rules.md
python -m bot.classify.docs --check  # exit 1 if docs/rules.md is out of date
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

from bot.classify.rules import RULES, Rule, fill

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"

_FAMILIES = {
    "lock": "lock: the risk comes from the verdict (what the locks block, for how long)",
    "hazard": "hazard: the rule's own risk",
    "migration": "migration: about the migration file",
}


def _placeholders(template: str) -> dict[str, str]:
    names = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    return {name: f"<{name}>" for name in names}


def generic(template: str) -> str:
    """A rule's text with its placeholders shown as ``<table>``, ``<column>``, ..."""
    return fill(template, _placeholders(template))


def entry(rule: Rule) -> str:
    """The rule's section of docs/rules.md (also the help of its SARIF rule)."""
    message = generic(rule.message)
    why = generic(rule.why)
    return "\n".join(
        [
            f"## {rule.id}",
            "",
            f"**{rule.title}**",
            "",
            f"Risk: **{rule.risk.value}** · family: {_FAMILIES[rule.family]}" + _decision(rule),
            "",
            message,
            "",
            f"Why it hurts: {why}",
            "",
            "Bad:",
            "",
            f"```{rule.bad.lang}",
            rule.bad.code,
            "```",
            "",
            *_safer(rule),
        ]
    )


def _decision(rule: Rule) -> str:
    """How the rule's findings take part in the review's decisions (``bot.consolidate``)."""
    if rule.deploy_order:
        return ' · deploy-order rule: off with `deploy = "downtime"`'
    if rule.restates:
        return " · folds into the other lock finding of its operation"
    return ""


def _safer(rule: Rule) -> list[str]:
    """The review's own files for an example migration where the rule has a file recipe (the
    same builder writes them), else the catalogue's safe form."""
    from bot.alternative.examples import EXAMPLES, PARTITIONED_INDEX, files_for

    example = EXAMPLES.get(rule.id)
    if example is None:
        return ["Safer:", "", f"```{rule.safe.lang}", rule.safe.code, "```", ""]
    lines = [
        "Safer, on PostgreSQL: what the review offers in place of a migration like the bad "
        "one (every operation kept; shown as paste-ready only once applied on the scratch "
        "database: same schema and state, no blocking scan):",
        "",
    ]
    examples = [example] + ([PARTITIONED_INDEX] if rule.id == "MR-LOCK-INDEX" else [])
    for item in examples:
        if item is PARTITIONED_INDEX:
            lines += [
                "On a partitioned table, where PostgreSQL refuses `CONCURRENTLY`, the index is "
                "built partition by partition:",
                "",
            ]
        for file in files_for(rule.id, item):
            release = f" (release {file.release})" if file.release > 1 else ""
            lines += [f"`{file.path}`{release}:", "", "```python", file.source.rstrip(), "```", ""]
    return lines


def render() -> str:
    rows = [f"| [{r.id}](#{r.id.lower()}) | {r.risk.value} | {r.title} |" for r in RULES.values()]
    return (
        "\n".join(
            [
                "# Rules",
                "",
                "<!-- Generated from bot/classify/rules.py by "
                "`python -m bot.classify.docs`. Do not edit by hand. -->",
                "",
                "Every finding names one of these rules. A rule's risk is the typical one; "
                "for lock rules the review computes it from the statement's verdict (what its "
                "locks block, crossed with whether it rewrites, scans or changes rows), so a "
                "traced verdict can raise or lower it. Acknowledge a finding with "
                "`# migration-review: ignore <RULE> -- <reason>` in the migration.",
                "",
                "| rule | risk | title |",
                "|---|---|---|",
                *rows,
                "",
                *(entry(rule) for rule in RULES.values()),
            ]
        ).rstrip("\n")
        + "\n"
    )


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
        if current != text:
            print(f"{DOCS} is out of date: run python -m bot.classify.docs", file=sys.stderr)
            return 1
        return 0
    DOCS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
