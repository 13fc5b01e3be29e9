"""The secrets rule: which variables hold the GitHub token and the runner's secrets, and the
environment without them.

Everything that runs the pull request's code (the collector, the install of its requirements)
and the re-started action itself get ``without_secrets()``: one rule, in one place, for all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

TOKEN_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)


_TAKEN: set[str] = set()
"""Secrets this process took out of its environment (the token): still kept from children."""

MIN_SECRET = 8
"""A secret this long or longer is looked for inside other values too; a shorter one (no real
token is) only as a whole value, or every variable holding its characters would go."""


def without_secrets(
    environ: dict[str, str] | None = None, *, also: Iterable[str | None] = ()
) -> dict[str, str]:
    """The environment minus the tokens (and the ``also`` secrets), also when copied under
    another name: with a newline after it, or inside a longer value
    (``PIP_INDEX_URL=https://x-access-token:TOKEN@...``)."""
    environ = dict(os.environ if environ is None else environ)
    values = [environ.get(name) for name in TOKEN_VARIABLES] + list(also) + list(_TAKEN)
    secrets = {value.strip() for value in values if value and value.strip()}

    def holds_secret(value: str) -> bool:
        return any(
            secret in value if len(secret) >= MIN_SECRET else value.strip() == secret
            for secret in secrets
        )

    return {
        name: value
        for name, value in environ.items()
        if name not in TOKEN_VARIABLES and not holds_secret(value)
    }


def taken(secret: str | None) -> str | None:
    """Note a secret taken out of the environment: ``without_secrets`` keeps removing its
    copies from every environment handed to the pull request's code. Returns it."""
    if secret and secret.strip():
        _TAKEN.add(secret.strip())
    return secret
