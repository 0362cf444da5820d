#!/usr/bin/env bash
# Runs every benchmark script under tests/bench/ and prints their figures; benchmarks measure,
# they do not assert (speed goals are read from this output, never enforced in timed tests).
set -euo pipefail
cd "$(dirname "$0")/.."
for bench in tests/bench/*.sh; do
  echo "=== bench $(basename "$bench" .sh) ==="
  "$bench"
done
