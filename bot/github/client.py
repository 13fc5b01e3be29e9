"""The PyGithub client, set up to ride out GitHub's transient failures.

GitHub answers a burst of writes with a *secondary rate limit* (403 or 429, usually with
``retry-after``) and now and then a 502 from its front end. PyGithub's ``GithubRetry`` (a urllib3
``Retry``) already tells a rate-limit 403 from a permission 403 and honours ``retry-after``; it
is given 429 and PATCH (comment and check-run updates) too, and a bound on attempts and waits so
a stuck API fails the step in minutes, not hours.

One request is never retried blindly: the POST that creates a comment. GitHub may create it and
answer after the client gave up (a timeout, a 502 from the front end); sent again, the pull
request gets two reviews, and later runs update only the first. ``bot.github.comment`` looks for
it by its marker before it posts again. A refusal (a rate limit) is retried as before.
"""

from __future__ import annotations

import re
from typing import Any

from github import Auth, Github, GithubException, GithubRetry
from requests import RequestException
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from bot import __version__

RETRIES = 5
MAX_BACKOFF = 30.0
MAX_RATE_LIMIT_WAIT = 300.0
PER_PAGE = 100
SECONDARY_RATE_WAIT = 60.0
"""GitHub: without retry-after, wait at least a minute after a secondary rate limit."""

TIMEOUT = 15
"""Seconds to wait for an answer (PyGithub's default)."""
CREATES_COMMENT = re.compile(r"/issues/\d+/comments$")

PublishFailure = (GithubException, RequestException)
"""What a call to the API can raise once the retries are spent."""


class PublishRetry(GithubRetry):
    """``GithubRetry``, except for a comment's POST that GitHub may have carried out."""

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        refused = response is not None and response.status in (403, 429)
        path = (url or "").split("?")[0]
        if method == "POST" and CREATES_COMMENT.search(path) and not refused:
            reason = error or ResponseError(f"HTTP {getattr(response, 'status', '?')}")
            raise MaxRetryError(_pool, url or "", reason)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def connect(
    api_url: str, token: str, *, backoff_factor: float = 1.0, timeout: int = TIMEOUT
) -> Github:
    """A client for ``api_url``; waits between retries grow as ``backoff_factor * 2**n``."""
    retry = PublishRetry(
        total=RETRIES,
        backoff_factor=backoff_factor,
        backoff_max=MAX_BACKOFF,
        status_forcelist=[429, *range(500, 600)],
        allowed_methods=Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH"},
        secondary_rate_wait=SECONDARY_RATE_WAIT,
        max_rate_limit_wait=MAX_RATE_LIMIT_WAIT,
    )
    return Github(
        auth=Auth.Token(token),
        base_url=api_url,
        retry=retry,
        per_page=PER_PAGE,
        user_agent=f"django-migration-review/{__version__}",
        lazy=True,
        timeout=timeout,
    )


def own_login(gh: Github) -> str:
    """The login under which the token writes comments, spelled as REST spells comment authors.

    GraphQL's ``viewer`` answers for every kind of token: a user's login for a personal token,
    ``<app>[bot]`` (``github-actions[bot]``) for an installation token such as the workflow's
    ``GITHUB_TOKEN``, which REST's ``GET /user`` refuses with a 403.
    """
    _, data = gh.requester.graphql_query("query { viewer { login } }", {})
    return data["data"]["viewer"]["login"]


def describe(exc: Exception) -> str:
    """A one-line reason for a failed call, never including request headers (the token)."""
    if isinstance(exc, GithubException):
        data = exc.data if isinstance(exc.data, dict) else {}
        message = data.get("message") or exc.message or "no message"
        details = "; ".join(
            e.get("message", "") for e in data.get("errors") or [] if isinstance(e, dict)
        )
        return f"HTTP {exc.status}: {message}" + (f" ({details})" if details else "")
    return f"{type(exc).__name__}: {exc}"


def is_forbidden(exc: Exception) -> bool:
    """A permission refusal (not a rate limit: those were retried and show up as 429/403 too,
    but only after the retries are spent, with a rate-limit message)."""
    return (
        isinstance(exc, GithubException) and exc.status == 403 and "rate limit" not in describe(exc)
    )
