"""The secrets rule: which variables hold the GitHub token and the runner's secrets, and the
environment without them.

Everything that runs the pull request's code (the collector, the install of its requirements)
and the re-started action itself get ``without_secrets()``: one rule, in one place, for all.
"""

from __future__ import annotations

import os

TOKEN_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)


def without_secrets(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment minus the tokens, also when copied under another variable's name."""
    environ = dict(os.environ if environ is None else environ)
    secrets = {environ[name] for name in TOKEN_VARIABLES if environ.get(name)}
    return {
        name: value
        for name, value in environ.items()
        if name not in TOKEN_VARIABLES and value not in secrets
    }
