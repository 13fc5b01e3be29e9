"""The one review comment per pull request, updated in place.

The comment is found again by the hidden marker the templates put on its first line, but only
among comments written by the token's own user: anyone can paste the marker into a comment of
their own, and the bot must neither edit theirs (it may not be allowed to) nor stop updating its
own. Every page of comments is read; a busy pull request has hundreds.
"""

from __future__ import annotations

from github import GithubException
from github.Issue import Issue
from github.IssueComment import IssueComment

from bot.github.client import PublishFailure
from bot.render import COMMENT_MARKER

CREATE_ATTEMPTS = 3


def find_sticky(issue: Issue, login: str) -> IssueComment | None:
    """The bot's earlier review comment on this pull request, if any."""
    for comment in issue.get_comments():
        if comment.user.login == login and COMMENT_MARKER in (comment.body or ""):
            return comment
    return None


def upsert(issue: Issue, body: str, *, login: str, create: bool = True) -> IssueComment | None:
    """Update the sticky comment with ``body``, or create it when ``create`` allows.

    ``create`` is False for a pull request without migration changes: an existing review is
    replaced by one saying so, but none is started. A creation that failed without an answer
    may still have happened: the comments are read again before it is tried again.
    """
    attempt = 1
    while True:
        existing = find_sticky(issue, login)
        if existing is not None:
            if existing.body != body:
                existing.edit(body)
            return existing
        if not create:
            return None
        try:
            return issue.create_comment(body)
        except PublishFailure as exc:
            if attempt == CREATE_ATTEMPTS or not _may_have_posted(exc):
                raise
        attempt += 1


def _may_have_posted(exc: Exception) -> bool:
    """No answer, or a server error: GitHub may have created the comment all the same."""
    return not isinstance(exc, GithubException) or exc.status >= 500
