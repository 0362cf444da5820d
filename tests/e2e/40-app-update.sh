#!/usr/bin/env bash
# Issue 8, step 3: a rolling update under a bounded load loop (a few requests per second to
# the frontend NodePort, which calls the backend): zero failed requests. The update changes
# both Deployments' pod templates, so every app pod is replaced.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# load_loop STOPFILE OUT: GETs the frontend's health and sign-in pages about 4 times a second
# until STOPFILE exists, or 10 minutes at most; writes "sent failed" to OUT.
load_loop() {
  local stop=$1 out=$2 until=$((SECONDS + 600)) sent=0 failed=0 url
  while [[ ! -e $stop ]] && ((SECONDS < until)); do
    for url in "$FRONTEND_URL/api/health" "$FRONTEND_URL/sign-in"; do
      sent=$((sent + 1))
      curl -fsS -o /dev/null --max-time 5 "$url" || failed=$((failed + 1))
    done
    sleep 0.5
  done
  echo "$sent $failed" >"$out"
}

step "helm upgrade (new pod template) while the load loop runs"
rm -f "$E2E_WORK/load.stop"
load_loop "$E2E_WORK/load.stop" "$E2E_WORK/load.out" &
loader=$!
sleep 5
started=$SECONDS
helm_app upgrade "$RELEASE" "$CHART" -f "$VALUES" --reuse-values \
  --set-string "backend.podAnnotations.forge-e2e/rollout=$started" \
  --set-string "frontend.podAnnotations.forge-e2e/rollout=$started" \
  --wait --timeout 10m >&2
figure "rolling update duration" "$((SECONDS - started))s"
sleep 5   # keep loading a little after the last old pod went away
touch "$E2E_WORK/load.stop"
wait "$loader"
read -r sent failed <"$E2E_WORK/load.out"
figure "update: requests sent / failed" "$sent / $failed"
((sent > 40)) || fail "the load loop sent only $sent requests"
((failed == 0)) || fail "$failed of $sent requests failed during the rolling update"
