#!/usr/bin/env bash
# forge benchmarks: warm no-change rebuild time of `base` (goal: well under 1 s) and layer
# assembly throughput of forge's writer against `tar -c | gzip` on the same files in the same
# run (goal: >= 0.9x). Uses the project's lock and cache; locks first if there is no lock.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
cargo build --release -q -p forge
FORGE="$ROOT/target/release/forge"
[ -f recipes/forge.lock ] || "$FORGE" lock
"$FORGE" build base >/dev/null

runs=()
for _ in 1 2 3 4 5; do
  start=$(date +%s%N)
  "$FORGE" build base >/dev/null 2>&1
  runs+=($(( ($(date +%s%N) - start) / 1000000 )))
done
sorted=$(printf '%s\n' "${runs[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p)
echo "warm no-change rebuild of base: median ${median} ms (runs: ${sorted% }) (goal: well under 1000 ms)"

WORK=$(mktemp -d /tmp/forge-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/rootfs"
for layer in $(python3 -c 'import json; print(" ".join(l["digest"][7:] for l in json.load(open("out/base/forge-report.json"))["layers"]))'); do
  tar -xzf "out/base/blobs/sha256/$layer" -C "$WORK/rootfs"
done
cargo bench -q -p forge --bench layer_throughput -- "$WORK/rootfs"
