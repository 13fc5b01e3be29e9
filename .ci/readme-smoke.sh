#!/usr/bin/env bash
# README's two commands on a machine without apt's PostgreSQL: builds .ci/readme/Dockerfile
# (Debian with only python3, python3-venv and git) around a clean copy of this commit; the
# build runs the commands and fails if they do. Needs root (buildah) and ../shared/container.
# MR_README_REV=REV checks another commit than HEAD.
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
shared="$root/../shared/container"
[ -d "$shared" ] || { echo "readme-smoke: $shared is missing" >&2; exit 2; }
context=$(mktemp -d /tmp/mr-readme-smoke.XXXXXX)
trap 'rm -rf "$context"' EXIT
cp "$root/.ci/readme/Dockerfile" "$context/"
# README starts "from a clone of this repository": a clone it is.
git clone --quiet --no-local --no-checkout "$root" "$context/src"
git -C "$context/src" checkout --quiet --detach "$(git -C "$root" rev-parse "${MR_README_REV:-HEAD}")"
started=$(date +%s)
bash "$shared/build-image.sh" localhost/migration-review:readme "$context"
echo "readme-smoke: README's commands passed without apt's PostgreSQL in $(( $(date +%s) - started )) s"
