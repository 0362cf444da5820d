#!/usr/bin/env bash
# Issue 8, step 8: `helm test` passes; `helm uninstall` removes the release's objects.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "helm test"
helm_app test "$RELEASE" --timeout 5m >&2 || fail "helm test $RELEASE failed"

step "helm uninstall removes the release's objects"
helm_app uninstall "$RELEASE" --wait --timeout 5m >&2
# The chart keeps one object on purpose: its generated Secret carries
# `helm.sh/resource-policy: keep`, so a reinstall can still open the data of the kept PVC
# (NOTES.txt says how to delete both). Everything else must go.
objects() {
  kc -n "$APP_NS" get all,configmaps,secrets,networkpolicies,serviceaccounts \
    -l "app.kubernetes.io/instance=$RELEASE" -o json
}
remaining() {
  objects | jq -r '.items[] | select(.metadata.annotations["helm.sh/resource-policy"] != "keep")
    | "\(.kind)/\(.metadata.name)"'
}
kept() {
  objects | jq -r '.items[] | select(.metadata.annotations["helm.sh/resource-policy"] == "keep")
    | "\(.kind)/\(.metadata.name)"'
}
deadline=$((SECONDS + 120))
while [[ -n $(remaining) ]]; do
  ((SECONDS < deadline)) || fail "objects of $RELEASE remain after helm uninstall: $(remaining | tr '\n' ' ')"
  sleep 2
done
[[ $(kept) == "Secret/$RELEASE-todo-app" ]] || fail "helm uninstall kept unexpected objects: $(kept | tr '\n' ' ')"
kc -n "$APP_NS" delete secret "$RELEASE-todo-app" >&2
note "nothing labelled app.kubernetes.io/instance=$RELEASE is left but the Secret the chart keeps on purpose (deleted now); claims of the Postgres StatefulSet stay, by Kubernetes design"
