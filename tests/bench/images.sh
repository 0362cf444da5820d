#!/usr/bin/env bash
# Per image (backend, frontend, postgres): compressed and uncompressed size, layer count, and
# its cold (fresh clone, empty FORGE_CACHE, `forge build NAME`) and warm (nothing changed)
# build time; then the same two times for `forge build --all`.
# Goals (issue 4): backend <= 120 MB and frontend <= 160 MB uncompressed. Measures only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v uv >/dev/null || python3 -m pip install --quiet uv
(cd "$ROOT" && cargo build --release -p forge >&2)
FORGE="$ROOT/target/release/forge"
WORK=$(mktemp -d /tmp/images-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
git clone -q "$ROOT" "$WORK/taskflow"
cd "$WORK/taskflow"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# timed NAME CACHE ARGS...: runs forge, prints the milliseconds it took; fails loudly.
timed() {
  local name=$1 cache=$2 start
  shift 2
  start=$(now_ms)
  FORGE_CACHE="$cache" "$FORGE" build "$@" >/dev/null 2>"$WORK/$name.log" || { tail -n 40 "$WORK/$name.log" >&2; exit 1; }
  echo $(( $(now_ms) - start ))
}

printf '%-10s %12s %14s %7s %10s %10s\n' image compressed uncompressed layers cold warm
for name in backend frontend postgres; do
  rm -rf out
  cold=$(timed "$name-cold" "$WORK/cache-$name" "$name")
  warm=$(timed "$name-warm" "$WORK/cache-$name" "$name")
  python3 - "out/$name/forge-report.json" "$name" "$cold" "$warm" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
name, cold, warm = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
print(f"{name:<10} {r['size']/1e6:9.1f} MB {r['uncompressed_size']/1e6:11.1f} MB {len(r['layers']):7d}"
      f" {cold/1000:8.1f} s {warm/1000:8.1f} s")
PY
done
rm -rf out
cold=$(timed all-cold "$WORK/cache-all" --all)
warm=$(timed all-warm "$WORK/cache-all" --all)
echo "forge build --all: cold $((cold / 1000)).$(( (cold % 1000) / 100 )) s, warm $((warm / 1000)).$(( (warm % 1000) / 100 )) s"
