#!/usr/bin/env bash
# Per image (backend, frontend, postgres): compressed and uncompressed size, layer count, and
# the cold (empty FORGE_CACHE, fresh clone) and warm (nothing changed) `forge build --all` time.
# Goals (issue 4): backend <= 120 MB and frontend <= 160 MB uncompressed. Measures only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v uv >/dev/null || python3 -m pip install --quiet uv
(cd "$ROOT" && cargo build --release -p forge >&2)
FORGE="$ROOT/target/release/forge"
WORK=$(mktemp -d /tmp/images-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
git clone -q "$ROOT" "$WORK/taskflow"
export FORGE_CACHE="$WORK/cache"
cd "$WORK/taskflow"
start=$(date +%s%N)
"$FORGE" build --all >/dev/null 2>"$WORK/cold.log" || { tail -n 40 "$WORK/cold.log" >&2; exit 1; }
cold_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
"$FORGE" build --all >/dev/null 2>&1
warm_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "forge build --all: cold ${cold_ms} ms, warm ${warm_ms} ms"
printf '%-10s %12s %14s %7s\n' image compressed uncompressed layers
for name in backend frontend postgres; do
  python3 - "out/$name/forge-report.json" "$name" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<10} {r['size']/1e6:9.1f} MB {r['uncompressed_size']/1e6:11.1f} MB {len(r['layers']):7d}")
PY
done
