"""The ``migration-review`` command: one sub-command per module, each with add_arguments/run.

Exit codes (``bot.errors``): 0 nothing reaches ``--fail-on``; 1 something does; 2 a tool or
input error.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from collections.abc import Sequence

from bot import __version__
from bot.errors import EXIT_ERROR, EXIT_PASS, ReviewError

# sub-command -> module providing add_arguments(parser) and run(args) -> int
COMMANDS: dict[str, tuple[str, str]] = {
    "analyze": ("bot.pipeline", "Review the migrations changed between two git revisions."),
    "check-sql": ("bot.checksql", "Classify the statements of raw SQL files."),
    "demo": ("bot.demo", "Review the bundled demo project on a throwaway PostgreSQL."),
    "pre-commit": (
        "bot.precommit",
        "Review the migrations the staged changes add, against the upstream branch.",
    ),
    "github": ("bot.github.action", "Run as the GitHub Action: review and publish to the PR."),
    "stats-query": ("bot.stats", "Print the catalog query that produces a table-stats file."),
    "schema": ("bot.cli", "Print the JSON Schema of the report."),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The schema command takes no arguments."""


def run(args: argparse.Namespace) -> int:
    from bot.models import Report

    json.dump(Report.model_json_schema(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return EXIT_PASS


def seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="migration-review",
        description="Review Django migrations before they reach a live database.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP (``docker stop``, ``timeout``, systemd, a cancelled job): all
    unwind like Ctrl-C, so the collector is stopped and every temporary folder and worktree
    removed; a second signal does not cut that short."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: object) -> None:
    # The cleanup that follows must not be cut short by the next signal.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = {sig: signal.signal(sig, _interrupt) for sig in STOP_SIGNALS}
    try:
        return args.run(args)
    except ReviewError as exc:
        print(f"migration-review: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        print(
            f"migration-review: interrupted by {signal.Signals(signum).name}; cleaned up",
            file=sys.stderr,
        )
        return 128 + signum
    except BrokenPipeError:  # the reader (e.g. `| head`) went away; not our error to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PASS
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
