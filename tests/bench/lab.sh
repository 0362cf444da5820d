#!/usr/bin/env bash
# Lab timings: tool builds (cached after the first run: their cold times are in
# tests/lab/README.md), `up` with a fresh state dir, `down`, and a warm `up` (state kept).
# Measures only; needs root. Uses its own state dir and removes it.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export FORGE_LAB_DIR
FORGE_LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/forge-lab-bench.XXXXXX")/lab
trap '"$repo/tests/lab/down" --purge >/dev/null 2>&1 || true; rm -rf "${FORGE_LAB_DIR%/lab}"' EXIT

timed() {
  local what=$1 started=$SECONDS
  shift
  "$@" >/dev/null 2>"${FORGE_LAB_DIR%/lab}/last.log" || { cat "${FORGE_LAB_DIR%/lab}/last.log" >&2; exit 1; }
  printf '%-36s %ss\n' "$what" "$((SECONDS - started))"
}

timed "tool builds (0 when cached)" bash -c "'$repo/tests/tools/kubernetes.sh' && '$repo/tests/tools/etcd.sh' && '$repo/tests/tools/kube-router.sh' && '$repo/tests/tools/coredns.sh' && '$repo/tests/tools/pause.sh'"
timed "lab up, fresh state dir" "$repo/tests/lab/up"
timed "lab down" "$repo/tests/lab/down"
timed "lab up, warm (state kept)" "$repo/tests/lab/up"
