"""A throwaway SQLite database: a file in a temporary folder, removed with the folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

FILE_NAME = "scratch.sqlite3"


class ScratchFile:
    """``url`` is ``sqlite:///<path>``; on exit the folder goes, with the file and its journal."""

    def __init__(self) -> None:
        self.folder: Path | None = None

    @property
    def path(self) -> Path:
        assert self.folder is not None, "the scratch file is not created"
        return self.folder / FILE_NAME

    @property
    def url(self) -> str:
        return f"sqlite://{self.path}"

    def __enter__(self) -> ScratchFile:
        self.folder = Path(tempfile.mkdtemp(prefix="mr-sqlite-"))
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def path_of(url: str) -> str:
    return unquote(urlsplit(url).path)
