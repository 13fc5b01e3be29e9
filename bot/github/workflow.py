"""Talking to the Actions runner: workflow commands, step outputs and the job summary.

These need no token and no API: they work for a fork's pull request too, which is why the
findings are always printed as ``::error file=...,line=...::`` commands (the runner turns them into
annotations on the diff) and the whole review always goes to the job summary.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Literal

Level = Literal["error", "warning", "notice"]

SUMMARY_LIMIT_BYTES = 1024 * 1024
"""The runner drops a step summary larger than 1 MiB."""
MAX_PER_LEVEL = 10
"""GitHub shows at most 10 error, 10 warning and 10 notice annotations per step."""


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(
    level: Level,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """One ``::error``/``::warning``/``::notice`` line, escaped as the runner's toolkit does."""
    props = {"file": file, "line": str(line) if line else None, "title": title}
    spec = ",".join(f"{k}={_escape_property(v)}" for k, v in props.items() if v)
    return f"::{level}{' ' + spec if spec else ''}::{_escape_data(message)}"


def write_outputs(path: str | None, outputs: Mapping[str, str]) -> None:
    """Append step outputs to ``$GITHUB_OUTPUT`` in the multi-line (heredoc) form.

    The delimiter is random so a value cannot end the block early and inject other outputs.
    """
    if not path:
        return
    with open(path, "a", encoding="utf-8") as f:
        for name, value in outputs.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            f.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(path: str | None, markdown: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(markdown.rstrip("\n") + "\n")
