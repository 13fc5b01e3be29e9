"""Precision of the review: findings by rule and risk before and after consolidation, and every
high or critical finding that left the top level, with the reason.

    python bench/precision.py fixtures
        Builds projects shaped like what real histories show (twenty type changes on a small
        configuration table, a lock_timeout missing in five migrations, a NOT NULL change, a
        reset of an app's migrations, drops and renames deployed with downtime), reviews them
        on a throwaway PostgreSQL, and prints the figures and the size of each review.

    python bench/precision.py run --repo DIR --python PY --settings MOD --out DIR COMMIT...
        Reviews each COMMIT of a checkout you prepared as its own pull request (COMMIT^..COMMIT)
        and writes one JSON report per commit into --out. Run it with an older version of the
        tool on PYTHONPATH to get the "before" reports. With --pull-requests RANGE instead of
        commits, the commits are the first-parent ones of RANGE that touch a migration, oldest
        first: on a branch that takes pull requests as merges or squashes, each is one pull
        request, and COMMIT^..COMMIT (first parent to merge) is what the review sees on it.

    python bench/precision.py compare BEFORE_DIR AFTER_DIR [--judged FILE] [--hits]
        Compares two sets of reports of the same commits. --judged names a JSON file
        {"<commit> <app.migration> <rule>": "act" | "noise"} with a maintainer's judgement of each
        high and critical finding after; the precision is the share judged "act". With --hits,
        "before" is every rule hit the BEFORE_DIR reports stand for, at its risk before
        consolidation (what the review showed before it), so one run can serve as both.

"Before" in the fixtures is what the report's findings stand for (the members of groups, the
folded findings, the notes' and resets' members, the turned-off ones), which is what the review
showed before consolidation.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.models import Finding, Report, Risk  # noqa: E402
from bot.render import DEFAULT_MAX_CHARS, render_markdown  # noqa: E402

HIGH = (Risk.high, Risk.critical)


def top_level(report: Report) -> list[Finding]:
    """What the review shows: one finding per decision."""
    return report.findings


def stands_for(finding: Finding) -> list[tuple[Finding, str]]:
    """The rule hits a finding stands for, each with why it is not shown on its own."""
    if finding.members:
        found = []
        for member in finding.members:
            why = f"grouped into {finding.rule} on {finding.table or finding.migration}"
            found += [(member, why)] + [
                (f, f"folded into {member.rule}") for f, _ in _folded(member)
            ]
        return found
    return [(finding, ""), *_folded(finding)]


def _folded(finding: Finding) -> list[tuple[Finding, str]]:
    out = []
    for f in finding.folded:
        out += [(f, f"folded into {finding.rule} (same operation or edited migration)")]
        out += _folded(f)
    return out


def hits(report: Report) -> list[tuple[Finding, str]]:
    """Every rule hit of the report, with where it went."""
    found = [pair for f in top_level(report) for pair in stands_for(f)]
    for m in report.migrations:
        found += [(f, f"off: deploy = {report.deploy}") for f in m.off]
    return found


def before_risk(finding: Finding) -> Risk:
    return finding.risk_before or finding.risk


def counts(findings: list[tuple[str, Risk]]) -> Counter:
    return Counter(findings)


def print_counts(title: str, counted: Counter) -> None:
    print(f"\n{title}")
    for risk in reversed(Risk):
        rows = sorted((rule, n) for (rule, r), n in counted.items() if r == risk)
        if rows:
            print(f"  {risk:>8}: " + ", ".join(f"{rule} {n}" for rule, n in rows))
    high = sum(n for (_, r), n in counted.items() if r in HIGH)
    print(f"  high+critical: {high}")


def key(finding: Finding) -> tuple:
    return (finding.migration, finding.rule, finding.statement, finding.operation)


def gone(before: list[Finding], after: Report) -> list[tuple[Finding, str]]:
    """High and critical findings of ``before`` that are not high or critical at the top level
    of ``after``, each with the reason found in ``after``."""
    shown: dict[tuple, list[Finding]] = {}
    for f in top_level(after):
        shown.setdefault(key(f), []).append(f)
    where: dict[tuple, list[str]] = {}
    for f, why in hits(after):
        where.setdefault(key(f), []).append(why)
    out = []
    for f in before:
        if f.risk not in HIGH:
            continue
        kept = shown.get(key(f), [])
        if kept and kept[0].risk in HIGH:
            continue
        reasons = [w for w in where.get(key(f), []) if w]
        if kept and kept[0].risk_note:
            reasons.append(f"{kept[0].risk} now: {kept[0].risk_note}")
        out.append((f, "; ".join(dict.fromkeys(reasons)) or "not raised any more"))
    return out


# --- the fixtures ---------------------------------------------------------------------------


def fixtures() -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    import test_consolidate as shapes  # the test's projects are the benchmark's shapes

    from bot.cli import main

    cases = {
        "20 type changes, no stats": (shapes.SMALLINT_PROJECT, shapes.SETTING_BASE, []),
        "20 type changes, 3-row table": (
            shapes.SMALLINT_PROJECT,
            shapes.SETTING_BASE,
            ["--table-stats", "{stats}"],
        ),
        "5 migrations without lock_timeout": (shapes.five_migrations(), None, []),
        "NOT NULL with a default": (
            {"shop/migrations/0002_order_note.py": shapes.NOT_NULL},
            None,
            [],
        ),
        "drop + rename, downtime": (
            {"shop/migrations/0002_drop_and_rename.py": shapes.DROP_AND_RENAME},
            None,
            ["--deploy", "downtime"],
        ),
        "reset: 40 migrations deleted": (*shapes.reset_project(40), []),
    }
    total_before: Counter = Counter()
    total_after: Counter = Counter()
    for name, (head, base, args) in cases.items():
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            repo, base_sha = shapes.project(tmp, head, base=base)
            stats = shapes.stats_file(tmp, rows=3, table_bytes=8192)
            args = [a.replace("{stats}", str(stats)) for a in args]
            out = tmp / "report.json"
            main(["analyze", "--repo", str(repo), "--base", base_sha, "--format", "json",
                  "--output", str(out), *args])  # fmt: skip
            report = Report.model_validate_json(out.read_text())
        before = [(f.rule, before_risk(f)) for f, _ in hits(report)]
        after = [(f.rule, f.risk) for f in top_level(report)]
        total_before.update(before)
        total_after.update(after)
        size = len(render_markdown(report, max_chars=None))
        print(
            f"{name}: {len(before)} findings -> {len(after)}; high+critical "
            f"{sum(r in HIGH for _, r in before)} -> {sum(r in HIGH for _, r in after)}; "
            f"review {size:,} characters (limit {DEFAULT_MAX_CHARS:,})"
        )
    print_counts("before (every rule hit)", total_before)
    print_counts("after (one finding per decision)", total_after)
    return 0


# --- real history ---------------------------------------------------------------------------


def pull_requests(repo: Path, revisions: str) -> list[str]:
    """The first-parent commits of ``revisions`` that touch a migration, oldest first."""
    done = subprocess.run(
        ["git", "-C", str(repo), "log", "--first-parent", "--reverse", "--format=%h",
         revisions, "--", "*/migrations/*.py"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.split()


def run(args: argparse.Namespace) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    commits = args.commits
    if args.pull_requests:
        commits = pull_requests(args.repo, args.pull_requests) + commits
    for commit in commits:
        out = args.out / f"{commit}.json"
        command = [
            sys.executable, "-m", "bot", "analyze", "--repo", str(args.repo),
            "--base", f"{commit}^", "--head", commit, "--python", args.python,
            "--format", "json", "--output", str(out),
        ]  # fmt: skip
        if args.settings:
            command += ["--settings", args.settings]
        subprocess.run(command + args.extra, check=False)
    return 0


def compare(args: argparse.Namespace) -> int:
    judged = json.loads(args.judged.read_text()) if args.judged else {}
    total_before: Counter = Counter()
    total_after: Counter = Counter()
    act = noise = unjudged = 0
    disappeared = []
    for path in sorted(args.before.glob("*.json")):
        after_path = args.after / path.name
        if not after_path.exists():
            print(f"{path.stem}: no report after", file=sys.stderr)
            continue
        before = Report.model_validate_json(path.read_text())
        after = Report.model_validate_json(after_path.read_text())
        if args.hits:
            old = [f.model_copy(update={"risk": before_risk(f)}) for f, _ in hits(before)]
        else:
            old = before.findings
        old = [f for f in old if not f.ignored]
        total_before.update((f.rule, f.risk) for f in old)
        shown = [f for f in top_level(after) if not f.ignored]
        total_after.update((f.rule, f.risk) for f in shown)
        disappeared += [(path.stem, f, why) for f, why in gone(old, after)]
        for f in shown:
            if f.risk not in HIGH:
                continue
            verdict = judged.get(f"{path.stem} {f.migration} {f.rule}")
            act += verdict == "act"
            noise += verdict == "noise"
            unjudged += verdict is None
            mark = verdict or "UNJUDGED"
            print(f"  {path.stem} {f.migration} {f.rule} {f.risk}: {mark}")
    print_counts("before", total_before)
    print_counts("after", total_after)
    print("\nhigh/critical findings that disappeared, with the reason:")
    for commit, f, why in disappeared:
        print(f"  {commit} {f.migration} {f.rule} ({f.risk}, statement {f.statement}): {why}")
    if judged:
        shown_high = act + noise + unjudged
        share = f"{act / shown_high:.0%}" if shown_high else "n/a"
        print(f"\nafter: {act} of {shown_high} high/critical findings to act on ({share}); "
              f"{noise} noise, {unjudged} unjudged")  # fmt: skip
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fixtures")
    runner = sub.add_parser("run")
    runner.add_argument("--repo", type=Path, required=True)
    runner.add_argument("--python", required=True)
    runner.add_argument("--settings")
    runner.add_argument("--out", type=Path, required=True)
    runner.add_argument("--pull-requests", metavar="RANGE")
    runner.add_argument("commits", nargs="*")
    runner.add_argument("--extra", nargs=argparse.REMAINDER, default=[])
    comparer = sub.add_parser("compare")
    comparer.add_argument("before", type=Path)
    comparer.add_argument("after", type=Path)
    comparer.add_argument("--judged", type=Path)
    comparer.add_argument("--hits", action="store_true")
    args = parser.parse_args()
    if args.command == "fixtures":
        return fixtures()
    return run(args) if args.command == "run" else compare(args)


if __name__ == "__main__":
    shutil.which("git") or sys.exit("git is needed")
    sys.exit(main())
