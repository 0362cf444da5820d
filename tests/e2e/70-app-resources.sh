#!/usr/bin/env bash
# Issue 8, step 7: the release's pods use less than 4 GiB of memory and 2 CPUs, as the
# kubelet measures them (its Summary API, through the API server).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "resource use of the release from the kubelet's Summary API"
node=$(kc get nodes -o jsonpath='{.items[0].metadata.name}')
peak_memory=0 peak_millicores=0
for sample in 1 2 3 4 5; do
  read -r memory nanocores < <(kc get --raw "/api/v1/nodes/$node/proxy/stats/summary" | jq -r --arg ns "$APP_NS" '
    [.pods[] | select(.podRef.namespace == $ns)] |
    "\(map(.memory.workingSetBytes // 0) | add // 0) \(map(.cpu.usageNanoCores // 0) | add // 0)"')
  millicores=$((nanocores / 1000000))
  ((memory > peak_memory)) && peak_memory=$memory
  ((millicores > peak_millicores)) && peak_millicores=$millicores
  sleep 2
done
figure "release peak memory (working set)" "$((peak_memory / 1048576)) MiB"
figure "release peak CPU" "${peak_millicores}m"
((peak_memory > 0)) || fail "the kubelet reported no memory use for namespace $APP_NS"
((peak_memory < 4 * 1024 * 1024 * 1024)) || fail "the release uses $((peak_memory / 1048576)) MiB, over 4 GiB"
((peak_millicores < 2000)) || fail "the release uses ${peak_millicores}m CPU, over 2 CPUs"
