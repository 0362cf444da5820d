#!/usr/bin/env bash
# Issue 8, step 4: `helm upgrade --atomic` to a backend image that crashes on start rolls
# back by itself while the app keeps serving; then `helm rollback` to an earlier revision.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "helm upgrade --atomic to a crashing backend image"
# The probe image without arguments prints its usage and exits 1: a crash on start.
crash_repo=${PROBE_IMAGE%:*} crash_tag=${PROBE_IMAGE##*:}
revision_before=$(helm_app history "$RELEASE" -o json | jq '.[-1].revision')
started=$SECONDS
if helm_app upgrade "$RELEASE" "$CHART" -f "$VALUES" --reuse-values --atomic --timeout 90s \
  --set backend.image.repository="$crash_repo" --set backend.image.digest= \
  --set-string backend.image.tag="$crash_tag" >&2; then
  fail "helm upgrade --atomic succeeded with a crashing backend"
fi
figure "atomic upgrade failure -> rolled back" "$((SECONDS - started))s"
status=$(helm_app history "$RELEASE" -o json | jq -r '.[-1].description')
[[ $status == *"Rollback to $revision_before"* ]] || fail "the release did not roll back by itself: $status"
wait_until 120 "release Ready after the automatic rollback" release_ready
curl -fsS --max-time 5 "$FRONTEND_URL/api/health" >/dev/null || fail "the app stopped serving after the rollback"

step "helm rollback to the first revision"
started=$SECONDS
helm_app rollback "$RELEASE" 1 --wait --timeout 5m >&2
wait_until 300 "release Ready after helm rollback" release_ready
figure "helm rollback to revision 1 -> Ready" "$((SECONDS - started))s"
