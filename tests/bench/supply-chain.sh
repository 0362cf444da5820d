#!/usr/bin/env bash
# Benchmark: the Trivy gate's own overhead, i.e. the time `forge scan` spends beyond the trivy
# process (locating trivy, DB checks, report parsing and identity checks, policy, table/SARIF,
# report update). Measured with the real trivy and a constructed DB; prints figures, asserts
# nothing.
#
#   tests/bench/supply-chain.sh            # image: base (BENCH_IMAGE=NAME to change), 5 runs
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
img="${BENCH_IMAGE:-base}"
runs="${BENCH_RUNS:-5}"

trivy="$(tests/tools/trivy.sh)"
trivy_db="$(tests/tools/trivy-db.sh)"
cargo build --quiet --release -p forge
forge="$root/target/release/forge"
# A clean clone, so the bench leaves the checkout untouched.
git clone -q "$root" "$work/p"
cd "$work/p"
"$forge" lock "$img" >/dev/null
"$forge" build "$img" --scan=skip >/dev/null

echo '{"advisories":[]}' >"$work/empty.json"
"$trivy_db" --advisories "$work/empty.json" --cache-dir "$work/db" 2>/dev/null

for i in $(seq "$runs"); do
  FORGE_TRIVY="$trivy" "$forge" scan "$img" --cache-dir "$work/db" --timings 2>&1 >/dev/null | grep '^timings ' | sed 's/^timings //'
done >"$work/timings.jsonl"

python3 - "$work/timings.jsonl" "$img" "$runs" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if not rows:
    sys.exit("no timings recorded")
med = lambda k: statistics.median(r[k] for r in rows)
print(f"supply-chain gate on {sys.argv[2]} ({len(rows)} runs, median):")
print(f"  forge scan total      {med('total_ms'):8.1f} ms")
print(f"  trivy process         {med('trivy_ms'):8.1f} ms")
print(f"  gate overhead (forge) {med('overhead_ms'):8.1f} ms")
PY
