#!/usr/bin/env bash
# Issue 8, step 8: `helm test` passes; `helm uninstall` removes the release's objects.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "helm test"
helm_app test "$RELEASE" --timeout 5m >&2 || fail "helm test $RELEASE failed"

step "helm uninstall removes the release's objects"
helm_app uninstall "$RELEASE" --wait --timeout 5m >&2
remaining() {
  kc -n "$APP_NS" get all,configmaps,secrets,networkpolicies,serviceaccounts \
    -l "app.kubernetes.io/instance=$RELEASE" -o name
}
deadline=$((SECONDS + 120))
while [[ -n $(remaining) ]]; do
  ((SECONDS < deadline)) || fail "objects of $RELEASE remain after helm uninstall: $(remaining | tr '\n' ' ')"
  sleep 2
done
note "nothing labelled app.kubernetes.io/instance=$RELEASE is left (claims of the Postgres StatefulSet stay, by Kubernetes design)"
