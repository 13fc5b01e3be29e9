#!/usr/bin/env bash
# Build the action's image and run it as the Actions runner would, on the demo project, against
# a fake GitHub API on 127.0.0.1 (see .ci/container_smoke.py). Needs root (buildah) and the
# project's environment with its test extra: .venv (made by .ci/run), else $PYTHON.
# MR_SMOKE_IMAGE=TAG skips the build and runs an image built before.
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || { echo "container-smoke: no $python; make .venv (see README) or set PYTHON" >&2; exit 2; }
[ -d "$root/../shared/container" ] || { echo "container-smoke: $root/../shared/container is missing" >&2; exit 2; }
cd "$root"
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" .ci/container_smoke.py "$@"
