"""What the Actions runner tells the action: the event, the repository, the inputs, the token.

The runner passes each input as ``INPUT_<NAME>`` (upper-cased, dashes kept: ``INPUT_FAIL-ON``)
and describes the triggering event in the JSON file at ``GITHUB_EVENT_PATH``. The pull request
and its base and head commits come from that payload, whatever the event:

- ``pull_request`` / ``pull_request_target``: the ``pull_request`` object;
- ``workflow_run`` (the second workflow of the fork-safe set-up): the run's ``head_sha``, and its
  ``pull_requests`` when GitHub lists them (it does not for a fork's pull request: the number
  then comes from the report, and is checked against the run's head commit);
- ``workflow_dispatch``: a pull request number input (``pr``); the commits are asked of the API.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import ReviewError
from bot.secret_env import TOKEN_VARIABLES as RUNNER_SECRETS
from bot.secret_env import taken, without_secrets

INPUTS = (
    "github-token",
    "working-directory",
    "settings-module",
    "install-command",
    "database-url",
    "pg-version",
    "fail-on",
    "mode",
    "report-path",
    "sarif-path",
    "config",
    "template-dir",
    "table-stats",
    "deploy",
    "small-table-seconds",
    "cache-dir",
    "check-run",
    "timeout",
    "check-name",
)
DISPATCH_PR_INPUTS = ("pr", "pr-number", "pull-request")
PR_EVENTS = ("pull_request", "pull_request_target")
TOKEN_VARIABLES = ("INPUT_GITHUB-TOKEN", "INPUT_GITHUB_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")
TOKEN_FD_VARIABLE = "MIGRATION_REVIEW_TOKEN_FD"
"""Set on the re-executed command: the pipe that holds the token (see restart_without_secrets)."""
DEFAULT_API_URL = "https://api.github.com"
PAYLOAD_HINT = "the file must hold the JSON payload of a GitHub webhook event"
T = TypeVar("T")


def action_input(env: Mapping[str, str], name: str) -> str | None:
    """An input as the runner passes it, or None when empty.

    ``INPUT_FAIL_ON`` is accepted too: a shell cannot export a name with a dash in it, which
    makes the runner's spelling awkward to reproduce by hand.
    """
    key = "INPUT_" + name.upper().replace(" ", "_")
    value = env.get(key) or env.get(key.replace("-", "_")) or ""
    return value.strip() or None


def take_token(env: MutableMapping[str, str]) -> str | None:
    """Remove every variable that may hold the GitHub token from ``env``; return the token.

    The token given back by ``restart_without_secrets`` comes first.
    """
    handed = env.pop(TOKEN_FD_VARIABLE, None)
    found = [env.pop(name, None) for name in TOKEN_VARIABLES]
    if handed is not None:
        with os.fdopen(int(handed), "rb") as pipe:
            return taken(pipe.read().decode())
    return taken(next((value.strip() for value in found if value and value.strip()), None))


def restart_without_secrets(token: str | None) -> None:
    """Re-execute this command without the runner's secrets in its environment (no return).

    Removing a variable from ``os.environ`` hides it from the children's environment, but not
    from ``/proc/<pid>/environ``: that shows the environment the process started with, and any
    process of the same user may read it. The collector runs the pull request's code as the
    same user (the container's root), and the bot is its parent (PID 1 in the container). So
    when a secret (the token, the runner's ``ACTIONS_*_TOKEN``) is in the environment this
    process started with, it starts again with an environment that holds none, and is handed
    the token through a pipe. Nothing happens when the start-up environment is clean or cannot
    be read (no ``/proc``), or when this process is not the ``github`` command as started.
    """
    if sys.argv[1:2] != ["github"]:
        return
    try:
        initial = Path("/proc/self/environ").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return
    started_with = dict(item.partition("=")[::2] for item in initial if item)
    if not any(started_with.get(name) for name in RUNNER_SECRETS) and (
        without_secrets(started_with, also=[token]) == started_with
    ):
        return
    env = without_secrets(also=[token])
    if token is not None:
        read, write = os.pipe()
        os.write(write, token.encode())
        os.close(write)
        os.set_inheritable(read, True)
        env[TOKEN_FD_VARIABLE] = str(read)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "bot", *sys.argv[1:]], env)


@dataclass(frozen=True)
class Event:
    name: str
    repository: str
    api_url: str
    pull_request: int | None = None
    base_sha: str | None = None
    head_sha: str | None = None
    head_repository: str | None = None
    run_head_sha: str | None = None
    """workflow_run: the run's head commit, which GitHub sets (the report cannot forge it)."""
    run_pull_requests: tuple[int, ...] = ()

    @property
    def from_fork(self) -> bool:
        """The pull request's head lives in another repository: its token is read-only."""
        return self.head_repository is not None and self.head_repository != self.repository


def read_event(
    env: Mapping[str, str],
    *,
    event_path: Path | None = None,
    event_name: str | None = None,
    repository: str | None = None,
    api_url: str | None = None,
) -> Event:
    """The event the workflow runs for; the arguments override the runner's variables."""
    path_text = str(event_path or "") or env.get("GITHUB_EVENT_PATH")
    payload = _load_payload(Path(path_text)) if path_text else {}
    name = event_name or env.get("GITHUB_EVENT_NAME") or _guess_name(payload)
    repo = repository or env.get("GITHUB_REPOSITORY") or _dig(payload, "repository", "full_name")
    if not repo:
        raise ReviewError(
            "the repository is unknown",
            stage="publish",
            hint="run inside GitHub Actions (GITHUB_REPOSITORY), or pass --repository OWNER/NAME",
        )
    common = {
        "name": name,
        "repository": repo,
        "api_url": (api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
    }
    if name in PR_EVENTS and isinstance(payload.get("pull_request"), dict):
        pr = payload["pull_request"]
        return Event(
            **common,
            pull_request=pr.get("number"),
            base_sha=_dig(pr, "base", "sha"),
            head_sha=_dig(pr, "head", "sha"),
            head_repository=_dig(pr, "head", "repo", "full_name"),
        )
    if name == "workflow_run" and isinstance(payload.get("workflow_run"), dict):
        run = payload["workflow_run"]
        prs = [p for p in run.get("pull_requests") or [] if isinstance(p, dict)]
        only = prs[0] if len(prs) == 1 else {}
        return Event(
            **common,
            pull_request=only.get("number"),
            base_sha=_dig(only, "base", "sha"),
            head_sha=_dig(only, "head", "sha") or run.get("head_sha"),
            run_head_sha=run.get("head_sha"),
            run_pull_requests=tuple(p["number"] for p in prs if "number" in p),
        )
    if name == "workflow_dispatch":
        inputs = payload.get("inputs") or {}
        number = next((inputs[k] for k in DISPATCH_PR_INPUTS if inputs.get(k)), None)
        return Event(**common, pull_request=pr_number(number) if number else None)
    return Event(**common)


def pr_number(value: Any) -> int:
    """A pull request number as a user writes it: ``42`` or ``#42``."""
    text = str(value).strip().lstrip("#")
    if not text.isdigit():
        raise ReviewError(
            f"pull request number {value!r} is not a number",
            stage="publish",
            hint="give the workflow_dispatch input `pr` the number of the pull request, e.g. 42",
        )
    return int(text)


def read_json_file(
    path: Path,
    parse: Callable[[str], T],
    *,
    missing: str,
    missing_hint: str,
    invalid: str,
    invalid_hint: str,
) -> T:
    """A JSON file the workflow hands the action (the event payload, analyze's report), parsed.

    Missing, it names the step that should have made it; unreadable or invalid, what it must hold.
    """
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReviewError(missing, stage="publish", file=str(path), hint=missing_hint) from exc
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise ReviewError(
            f"{invalid}: {exc}", stage="publish", file=str(path), hint=invalid_hint
        ) from exc


def _load_payload(path: Path) -> dict[str, Any]:
    payload = read_json_file(
        path,
        json.loads,
        missing="the event file does not exist",
        missing_hint="GITHUB_EVENT_PATH (or --event-path) must name the event payload's JSON file",
        invalid="cannot read the event payload",
        invalid_hint=PAYLOAD_HINT,
    )
    if not isinstance(payload, dict):
        raise ReviewError(
            "the event payload is not a JSON object",
            stage="publish",
            file=str(path),
            hint=PAYLOAD_HINT,
        )
    return payload


def _guess_name(payload: Mapping[str, Any]) -> str:
    for name in ("pull_request", "workflow_run"):
        if name in payload:
            return name
    return "workflow_dispatch" if "inputs" in payload else "unknown"


def _dig(data: Mapping[str, Any] | None, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data
