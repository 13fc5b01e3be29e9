#!/usr/bin/env bash
# Release step: point action.yml at a prebuilt image instead of the Dockerfile, so that a run of
# the tagged action pulls it rather than building it (about a minute saved per run).
# Usage: .ci/pin-image.sh docker://ghcr.io/OWNER/NAME:VERSION [ACTION_YML]
# main keeps `image: Dockerfile` (CI builds and smoke-tests that); only the release commit the
# tag points at carries the image reference. Fails unless exactly one `image: Dockerfile` is there.
set -euo pipefail
image=${1:?usage: pin-image.sh docker://REGISTRY/NAME:TAG [action.yml]}
file=${2:-$(dirname "$0")/../action.yml}
case "$image" in
  docker://*:*) ;;
  *) echo "pin-image: $image is not docker://REGISTRY/NAME:TAG" >&2; exit 2 ;;
esac
count=$(grep -c '^  image: Dockerfile$' "$file" || true)
[ "$count" = 1 ] || { echo "pin-image: $file has $count 'image: Dockerfile' lines, expected 1" >&2; exit 2; }
sed -i "s|^  image: Dockerfile\$|  image: ${image}|" "$file"
grep -n '^  image: ' "$file"
