"""Verify every alternative that offers files, with a second run of the collector.

The alternatives are made after the review (they need its findings), so the collector runs
again, in ``verify`` mode: from the state before each migration it applies the original and the
alternative in two copies of the same database and compares what they leave
(``mr_collector.verify``). Only an alternative it proves gets ``verified``; the others keep
their reason, and the comment shows them as guidance.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from bot.collect import TIMEOUT, repo_root, run_collector
from bot.errors import ReviewError
from bot.models import Alternative, Model


class VerifyResult(Model):
    id: str
    verified: bool
    verification: str | None = None


class VerifyOutput(Model):
    database: str = ""
    results: list[VerifyResult]
    cached: int = 0
    errors: list[dict] = Field(default_factory=list)


def verify(
    alternatives: dict[str, Alternative],
    project_dir: Path,
    *,
    python: str | None,
    settings: str | None,
    database_url: str | None,
    cache_dir: Path | None = None,
    timeout: float = TIMEOUT,
) -> int:
    """Set ``verified`` and ``verification`` on each of ``alternatives`` (keyed by migration);
    return how many verdicts were read from the cache folder instead. Raises ``ReviewError``
    (stage ``alternative``) when the verification failed on a file of the project, after saying
    so on each alternative; out of time or killed, it is said on each alternative only (the
    review's findings stand, and a large review's verification is not its verdict).

    ``cache_dir`` holds the base-state snapshots of the review: the state before the first
    migration is restored from there rather than migrated from an empty database. It keeps the
    verdicts too, so that the next run of the same review does not verify again what it proved
    (``mr_collector.verdicts``).
    """
    offered = {label: alt for label, alt in alternatives.items() if alt.files}
    if not offered:
        return 0
    project_dir = Path(project_dir).resolve()
    request = {
        "mode": "verify",
        "project_dir": str(project_dir),
        "repo_root": str(repo_root(project_dir)),
        "settings": settings,
        "database_url": database_url,
        "pg_bin": None,
        "cache_dir": str(Path(cache_dir).resolve()) if cache_dir else None,
        "alternatives": [
            {
                "id": label,
                "migration": label,
                "files": [f.model_dump(mode="json") for f in alt.files],
                "edits_models": any("/migrations/" not in "/" + f.path for f in alt.files),
            }
            for label, alt in offered.items()
        ],
    }
    try:
        output = VerifyOutput.model_validate(run_collector(request, python=python, timeout=timeout))
    except ReviewError as exc:
        for alt in offered.values():
            alt.verification = f"could not be verified: {exc.error.message}"
        if exc.error.file is None:  # out of time or killed: said on each alternative
            return 0
        exc.error.stage = "alternative"
        raise
    for result in output.results:
        alt = offered[result.id]
        alt.verified = result.verified
        alt.verification = result.verification
    return output.cached
