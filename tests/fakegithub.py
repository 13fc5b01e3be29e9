"""A fake GitHub REST API on 127.0.0.1: real HTTP, GitHub's documented response shapes.

The tests point PyGithub (unpatched) at it, and the container smoke test points the action's
``GITHUB_API_URL`` at it. It keeps the few resources the action touches (issue comments, pull
requests, check runs and their annotations), records every request, and can be told to fail the
way GitHub fails: a read-only token (403 "Resource not accessible by integration"), a 502 from
the load balancer, a secondary rate limit (403 or 429 with ``retry-after``), or an answer that
comes after the client gave up waiting (``answer_late``).

Shapes follow docs.github.com/rest: issue comments (list with ``Link`` pagination, create,
update; 422 on a body over 65,536 characters), ``GET /user`` (403 for an installation token such
as the workflow's ``GITHUB_TOKEN``, whose login GraphQL's ``viewer`` gives), pulls, check runs
(at most 50 annotations per request, appended on update; 422 on a summary or text over 65,535
bytes, an annotation title over 255 characters, a message or raw_details over 64 KB), and the
``x-ratelimit-*`` headers.
``prefix="/api/v3"`` serves it the way GitHub Enterprise Server does (GraphQL at ``/api/graphql``).

Standalone, for the container smoke test::

    python tests/fakegithub.py --port 0 --state state.json --repo acme/shop \
        --pull 7:BASESHA:HEADSHA --token secret

prints the API URL on its first line, then serves until killed, rewriting ``state.json``
(requests, comments, check runs) after every request.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

MAX_COMMENT_CHARS = 65536
MAX_OUTPUT_BYTES = 65535
"""A check run's summary and text: "65535 characters", counted by GitHub in bytes."""
MAX_ANNOTATION_TITLE_CHARS = 255
MAX_ANNOTATION_MESSAGE_BYTES = 64 * 1024
"""An annotation's message and raw_details: "64 KB"."""
MAX_ANNOTATIONS_PER_REQUEST = 50
DOCS = "https://docs.github.com/rest"
NOT_ACCESSIBLE = "Resource not accessible by integration"
SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Failure:
    """An injected failure: the next ``times`` requests matching method and path fail."""

    method: str
    path: str
    status: int
    times: int = 1
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str, path: str) -> bool:
        return self.times > 0 and self.method in ("*", method) and bool(re.search(self.path, path))


class FakeGitHub:
    """The state of the fake API plus the server that serves it (a context manager)."""

    def __init__(
        self,
        *,
        repo: str = "acme/shop",
        login: str = "github-actions[bot]",
        token: str | None = None,
        prefix: str = "",
        read_only: bool = False,
        state_file: Path | None = None,
    ) -> None:
        self.repo = repo
        self.login = login
        self.token = token
        self.prefix = prefix.rstrip("/")
        self.read_only = read_only
        self.state_file = state_file
        self.requests: list[dict[str, Any]] = []
        self.comments: dict[int, dict[str, Any]] = {}
        self.pulls: dict[int, dict[str, Any]] = {}
        self.check_runs: dict[int, dict[str, Any]] = {}
        self.failures: list[Failure] = []
        self.late: list[Failure] = []
        self._ids = iter(range(1001, 10**9))
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- set-up -------------------------------------------------------------------------------

    @property
    def is_app_token(self) -> bool:
        """An installation token (the workflow's GITHUB_TOKEN): its user is a ``[bot]``."""
        return self.login.endswith("[bot]")

    def add_pull(
        self, number: int, base_sha: str, head_sha: str, head_repo: str | None = None
    ) -> None:
        self.pulls[number] = {"base_sha": base_sha, "head_sha": head_sha, "head_repo": head_repo}

    def add_comment(self, issue: int, body: str, login: str | None = None) -> int:
        """Seed a comment, as if ``login`` (default: the token's own user) wrote it earlier."""
        cid = next(self._ids)
        now = _now()
        self.comments[cid] = {
            "id": cid,
            "issue": issue,
            "body": body,
            "login": login or self.login,
            "created_at": now,
            "updated_at": now,
        }
        return cid

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        message: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Make the next ``times`` requests whose path matches the regex ``path`` fail."""
        self.failures.append(Failure(method, path, status, times, message, headers or {}))

    def answer_late(self, method: str, path: str, seconds: float, *, times: int = 1) -> None:
        """Carry out the next ``times`` matching requests, but answer only after ``seconds``:
        what a client that timed out sooner never learns."""
        self.late.append(Failure(method, path, 200, times, message=str(seconds)))

    def comments_on(self, issue: int) -> list[dict[str, Any]]:
        return [c for c in self.comments.values() if c["issue"] == issue]

    def writes(self) -> list[dict[str, Any]]:
        """The requests that change something (a GraphQL query does not)."""
        return [
            r
            for r in self.requests
            if r["method"] in ("POST", "PATCH", "PUT", "DELETE")
            and not r["path"].endswith("/graphql")
        ]

    # --- server -------------------------------------------------------------------------------

    def __enter__(self) -> FakeGitHub:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, port: int = 0) -> None:
        fake = self

        class Handler(_Handler):
            github = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def origin(self) -> str:
        assert self._server, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """What ``GITHUB_API_URL`` is set to."""
        return self.origin + self.prefix

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "url": self.url,
                "requests": list(self.requests),
                "comments": list(self.comments.values()),
                "check_runs": list(self.check_runs.values()),
            }

    def save(self) -> None:
        if self.state_file:
            with self._lock:
                tmp = self.state_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(self.snapshot(), indent=2))
                tmp.replace(self.state_file)

    # --- resources as GitHub shapes them ------------------------------------------------------

    def user_json(self, login: str) -> dict[str, Any]:
        bot = login.endswith("[bot]")
        uid = 41898282 if login == "github-actions[bot]" else zlib.crc32(login.encode())
        api = f"{self.url}/users/{login}"
        return {
            "login": login,
            "id": uid,
            "node_id": f"MDQ6VXNlcj{uid}",
            "avatar_url": f"{self.origin}/avatars/u/{uid}?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": f"{self.origin}/{login}" if not bot else f"{self.origin}/apps/{login[:-5]}",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "Bot" if bot else "User",
            "site_admin": False,
        }

    def repo_json(self, full_name: str) -> dict[str, Any]:
        owner, name = full_name.split("/")
        return {
            "id": zlib.crc32(full_name.encode()),
            "node_id": "R_kgDOfake",
            "name": name,
            "full_name": full_name,
            "private": False,
            "owner": self.user_json(owner),
            "html_url": f"{self.origin}/{full_name}",
            "url": f"{self.url}/repos/{full_name}",
            "fork": full_name != self.repo,
            "default_branch": "main",
        }

    def comment_json(self, c: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.url}/repos/{self.repo}"
        return {
            "id": c["id"],
            "node_id": f"IC_kwDOfake{c['id']}",
            "url": f"{api}/issues/comments/{c['id']}",
            "html_url": f"{self.origin}/{self.repo}/pull/{c['issue']}#issuecomment-{c['id']}",
            "body": c["body"],
            "user": self.user_json(c["login"]),
            "created_at": c["created_at"],
            "updated_at": c["updated_at"],
            "issue_url": f"{api}/issues/{c['issue']}",
            "author_association": "NONE" if c["login"].endswith("[bot]") else "MEMBER",
        }

    def pull_json(self, number: int) -> dict[str, Any]:
        p = self.pulls[number]
        head_repo = p["head_repo"] or self.repo

        def part(ref: str, sha: str, repo: str) -> dict[str, Any]:
            owner = repo.split("/")[0]
            return {
                "label": f"{owner}:{ref}",
                "ref": ref,
                "sha": sha,
                "user": self.user_json(owner),
                "repo": self.repo_json(repo),
            }

        return {
            "url": f"{self.url}/repos/{self.repo}/pulls/{number}",
            "id": 5000 + number,
            "node_id": f"PR_kwDOfake{number}",
            "html_url": f"{self.origin}/{self.repo}/pull/{number}",
            "number": number,
            "state": "open",
            "locked": False,
            "title": f"Pull request {number}",
            "user": self.user_json(head_repo.split("/")[0]),
            "draft": False,
            "merged": False,
            "head": part(f"feature-{number}", p["head_sha"], head_repo),
            "base": part("main", p["base_sha"], self.repo),
        }

    def check_run_json(self, run: dict[str, Any]) -> dict[str, Any]:
        api = f"{self.url}/repos/{self.repo}/check-runs/{run['id']}"
        output = run["output"]
        return {
            "id": run["id"],
            "head_sha": run["head_sha"],
            "node_id": f"CR_kwDOfake{run['id']}",
            "external_id": run.get("external_id") or "",
            "url": api,
            "html_url": f"{self.origin}/{self.repo}/runs/{run['id']}",
            "details_url": run.get("details_url") or "",
            "status": run["status"],
            "conclusion": run.get("conclusion"),
            "started_at": run["started_at"],
            "completed_at": run.get("completed_at"),
            "name": run["name"],
            "output": {
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": len(run["annotations"]),
                "annotations_url": f"{api}/annotations",
            },
            "check_suite": {"id": 7000 + run["id"]},
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
            "pull_requests": [],
        }


class _Reply(Exception):
    """Raised by a route to answer with a status, a JSON body and headers."""

    def __init__(
        self, status: int, body: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> _Reply:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS}
    if errors:
        body["errors"] = errors
    body["status"] = str(status)
    return _Reply(status, body)


class _Handler(BaseHTTPRequestHandler):
    github: FakeGitHub
    server_version = "GitHub.com"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the recorded requests are the log."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        gh = self.github
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        auth = self.headers.get("Authorization")
        with gh._lock:
            gh.requests.append(
                {
                    "method": method,
                    "path": parts.path,
                    "query": query,
                    "json": payload,
                    "authorization": auth,
                    "user_agent": self.headers.get("User-Agent"),
                }
            )
            try:
                reply = self._route(method, parts.path, query, payload, auth)
            except _Reply as exc:
                reply = exc
            late = next((f for f in gh.late if f.matches(method, parts.path)), None)
            if late is not None:
                late.times -= 1
        gh.save()
        if late is not None:
            time.sleep(float(late.message))
        with contextlib.suppress(OSError):  # the client may have given up waiting
            self._send(reply)

    def _route(
        self, method: str, path: str, query: dict[str, str], payload: Any, auth: str | None
    ) -> _Reply:
        gh = self.github
        for failure in gh.failures:
            if failure.matches(method, path):
                failure.times -= 1
                if failure.status >= 500:
                    raise _Reply(failure.status, {"message": failure.message or "Server Error"})
                reply = _error(failure.status, failure.message or NOT_ACCESSIBLE)
                reply.headers.update(failure.headers)
                raise reply
        if gh.token is not None and auth is not None and auth.split(" ")[-1] != gh.token:
            raise _error(401, "Bad credentials")
        if auth is None and method != "GET":
            raise _error(401, "Requires authentication")

        graphql = gh.prefix.removesuffix("/v3") + "/graphql"
        if method == "POST" and path == graphql:
            return self._graphql(payload)
        if not path.startswith(gh.prefix + "/"):
            raise _error(404, "Not Found")
        path = path[len(gh.prefix) :]

        if path == "/user" and method == "GET":
            if gh.is_app_token:
                raise _error(403, NOT_ACCESSIBLE)
            return _Reply(200, gh.user_json(gh.login))

        prefix = f"/repos/{gh.repo}"
        if path == prefix and method == "GET":
            return _Reply(200, gh.repo_json(gh.repo))
        if not path.startswith(prefix + "/"):
            raise _error(404, "Not Found")
        rest = path[len(prefix) :]
        if method != "GET" and gh.read_only:
            raise _error(403, NOT_ACCESSIBLE)

        if m := re.fullmatch(r"/pulls/(\d+)", rest):
            number = int(m[1])
            if method == "GET" and number in gh.pulls:
                return _Reply(200, gh.pull_json(number))
            raise _error(404, "Not Found")
        if m := re.fullmatch(r"/issues/(\d+)/comments", rest):
            issue = int(m[1])
            if method == "GET":
                return self._page([gh.comment_json(c) for c in gh.comments_on(issue)], query)
            if method == "POST":
                body = self._comment_body(payload)
                return _Reply(201, gh.comment_json(gh.comments[gh.add_comment(issue, body)]))
        if m := re.fullmatch(r"/issues/comments/(\d+)", rest):
            comment = gh.comments.get(int(m[1]))
            if comment is None:
                raise _error(404, "Not Found")
            if method == "GET":
                return _Reply(200, gh.comment_json(comment))
            if method == "PATCH":
                comment["body"] = self._comment_body(payload)
                comment["updated_at"] = _now()
                return _Reply(200, gh.comment_json(comment))
        if rest == "/check-runs" and method == "POST":
            run = {"id": next(gh._ids), "annotations": [], "output": {}, "started_at": _now()}
            if not payload or not payload.get("name") or not payload.get("head_sha"):
                raise _error(422, 'Invalid request.\n\n"name", "head_sha" weren\'t supplied.')
            self._update_run(run, payload)
            gh.check_runs[run["id"]] = run
            return _Reply(201, gh.check_run_json(run), {"Location": f"{gh.url}{path}/{run['id']}"})
        if m := re.fullmatch(r"/check-runs/(\d+)(/annotations)?", rest):
            run = gh.check_runs.get(int(m[1]))
            if run is None:
                raise _error(404, "Not Found")
            if method == "GET" and m[2]:
                return self._page(run["annotations"], query)
            if method == "GET":
                return _Reply(200, gh.check_run_json(run))
            if method == "PATCH" and not m[2]:
                self._update_run(run, payload or {})
                return _Reply(200, gh.check_run_json(run))
        raise _error(404, "Not Found")

    def _graphql(self, payload: Any) -> _Reply:
        query = (payload or {}).get("query", "")
        if re.search(r"\bviewer\s*\{\s*login\s*\}", query):
            return _Reply(200, {"data": {"viewer": {"login": self.github.login}}})
        return _Reply(200, {"errors": [{"message": "This fake serves only viewer { login }."}]})

    @staticmethod
    def _comment_body(payload: Any) -> str:
        body = (payload or {}).get("body")
        if not isinstance(body, str):
            raise _error(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
        if len(body) > MAX_COMMENT_CHARS:
            raise _error(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "IssueComment",
                        "code": "unprocessable",
                        "field": "data",
                        "message": f"Body is too long (maximum is {MAX_COMMENT_CHARS} characters)",
                    }
                ],
            )
        return body

    def _update_run(self, run: dict[str, Any], payload: dict[str, Any]) -> None:
        output = payload.get("output") or {}
        annotations = output.get("annotations") or []
        if len(annotations) > MAX_ANNOTATIONS_PER_REQUEST:
            raise _error(422, "Invalid request.\n\nOnly 50 annotations are allowed per request.")
        if output and not (output.get("title") and output.get("summary")):
            raise _error(422, 'Invalid request.\n\n"title", "summary" weren\'t supplied.')
        for key in ("summary", "text"):
            size = len((output.get(key) or "").encode())
            if size > MAX_OUTPUT_BYTES:
                raise _error(
                    422,
                    f"Invalid request.\n\nOnly {MAX_OUTPUT_BYTES} characters are allowed; "
                    f"{size} were supplied.",
                )
        for a in annotations:
            missing = {"path", "start_line", "end_line", "annotation_level", "message"} - set(a)
            if missing or a["annotation_level"] not in ("notice", "warning", "failure"):
                raise _error(422, f"Invalid request.\n\nAnnotation is invalid: {sorted(missing)}")
            if len(a.get("title") or "") > MAX_ANNOTATION_TITLE_CHARS:
                raise _error(422, "Invalid request.\n\nAnnotation title is too long.")
            for key in ("message", "raw_details"):
                if len((a.get(key) or "").encode()) > MAX_ANNOTATION_MESSAGE_BYTES:
                    raise _error(422, f"Invalid request.\n\nAnnotation {key} is too long.")
        for key in ("name", "head_sha", "details_url", "external_id", "status", "conclusion"):
            if key in payload:
                run[key] = payload[key]
        if payload.get("conclusion"):
            run["status"] = "completed"
            run["completed_at"] = payload.get("completed_at") or _now()
        run.setdefault("status", "queued")
        run["output"].update({k: v for k, v in output.items() if k != "annotations"})
        run["annotations"].extend(annotations)

    def _page(self, items: list[Any], query: dict[str, str]) -> _Reply:
        per_page = min(int(query.get("per_page", 30)), 100)
        page = max(int(query.get("page", 1)), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        host = self.headers.get("Host") or self.github.origin.removeprefix("http://")
        base = f"http://{host}{urlsplit(self.path).path}"

        def link(n: int, rel: str) -> str:
            return f'<{base}?{urlencode({**query, "per_page": per_page, "page": n})}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"Link": ", ".join(links)} if links else {}
        return _Reply(200, items[(page - 1) * per_page : page * per_page], headers)

    def _send(self, reply: _Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Length": str(len(data)),
            "X-GitHub-Media-Type": "github.v3; format=json",
            "X-GitHub-Api-Version-Selected": "2022-11-28",
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": "1",
            "X-RateLimit-Resource": "core",
            "X-GitHub-Request-Id": f"FAKE:{len(self.github.requests)}",
            **reply.headers,
        }
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake GitHub REST API on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed).")
    parser.add_argument("--state", type=Path, required=True, help="JSON file kept up to date.")
    parser.add_argument("--repo", default="acme/shop", help="owner/name of the one repository.")
    parser.add_argument("--login", default="github-actions[bot]", help="The token's own user.")
    parser.add_argument("--token", help="Accept only this token (default: any).")
    parser.add_argument("--prefix", default="", help='"/api/v3" to serve like GHE Server.')
    parser.add_argument("--read-only", action="store_true", help="A fork's read-only token.")
    parser.add_argument(
        "--pull", action="append", default=[], metavar="N:BASE:HEAD", help="A pull request."
    )
    parser.add_argument(
        "--comment", action="append", default=[], metavar="N:LOGIN:BODY", help="A seed comment."
    )
    args = parser.parse_args(argv)
    gh = FakeGitHub(
        repo=args.repo,
        login=args.login,
        token=args.token,
        prefix=args.prefix,
        read_only=args.read_only,
        state_file=args.state,
    )
    for spec in args.pull:
        number, base, head = spec.split(":", 2)
        gh.add_pull(int(number), base, head)
    for spec in args.comment:
        number, login, body = spec.split(":", 2)
        gh.add_comment(int(number), body, login)
    gh.start(args.port)
    gh.save()
    print(gh.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    gh.save()
    gh.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
