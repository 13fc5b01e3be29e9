"""The one exception type that crosses stage boundaries.

Every failure the user can act on is raised as ``ReviewError``: it carries the file at fault and
what to do, and the CLI turns it into a message and exit code 2 instead of a traceback.

The exit codes of every command: 0 nothing reaches ``--fail-on``; 1 something does; 2 a tool or
input error.
"""

from __future__ import annotations

from bot.models import ToolError

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2
EXIT_CODES = {"pass": EXIT_PASS, "fail": EXIT_FAIL, "error": EXIT_ERROR}
"""A report's decision -> the exit code."""


class ReviewError(Exception):
    def __init__(
        self,
        message: str,
        *,
        stage: str,
        file: str | None = None,
        hint: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.error = ToolError(stage=stage, message=message, file=file, hint=hint, detail=detail)

    def __str__(self) -> str:
        return format_error(self.error)


def format_error(error: ToolError) -> str:
    where = f"{error.file}: " if error.file else ""
    text = f"{where}{error.message}"
    if error.hint:
        text += f"\n  hint: {error.hint}"
    return text
