#!/usr/bin/env bash
# Issue 8, step 3: a rolling update under a bounded load loop (a few requests per second to
# the frontend NodePort, which calls the backend): zero failed requests.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# load_loop SECONDS OUT: GETs the frontend's health and sign-in page (server-rendered,
# needs the backend's JWKS path through the frontend) 4 times a second, then stops.
load_loop() {
  local until=$((SECONDS + $1)) out=$2 sent=0 failed=0 url
  while ((SECONDS < until)); do
    for url in "$FRONTEND_URL/api/health" "$FRONTEND_URL/sign-in"; do
      sent=$((sent + 1))
      curl -fsS -o /dev/null --max-time 5 "$url" || failed=$((failed + 1))
    done
    sleep 0.5
  done
  echo "$sent $failed" >"$out"
}

step "helm upgrade (new pod template) while the load loop runs"
load_loop 120 "$E2E_WORK/load.out" &
loader=$!
sleep 5
started=$SECONDS
helm_app upgrade "$RELEASE" "$CHART" -f "$VALUES" --reuse-values \
  --set-string "backend.podAnnotations.forge-e2e/rollout=$started" \
  --set-string "frontend.podAnnotations.forge-e2e/rollout=$started" \
  --wait --timeout 10m >&2
figure "rolling update duration" "$((SECONDS - started))s"
wait "$loader"
read -r sent failed <"$E2E_WORK/load.out"
figure "update: requests sent / failed" "$sent / $failed"
((sent > 100)) || fail "the load loop sent only $sent requests"
((failed == 0)) || fail "$failed of $sent requests failed during the rolling update"
