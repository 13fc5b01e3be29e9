"""The collector's one exception type, shaped like the bot's ``ToolError``.

The collector cannot import ``bot`` (it runs in the project's interpreter), so it reports
failures as plain dicts with the same fields; the bot validates them into ``ToolError``.
"""

from __future__ import annotations


class CollectorError(Exception):
    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        hint: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.hint = hint
        self.detail = detail

    def __str__(self) -> str:
        text = f"{self.file}: {self.message}" if self.file else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, str | None]:
        return {
            "stage": "collect",
            "message": self.message,
            "file": self.file,
            "hint": self.hint,
            "detail": self.detail,
        }
