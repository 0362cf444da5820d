#!/usr/bin/env bash
# Issue 8, step 1: forge builds the app images, loads them into the lab's containerd,
# pins their digests into a copy of values-dev.yaml, and helm installs the chart; every pod
# becomes Ready. Measures install-to-Ready.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "forge build, load into the lab's containerd, pin"
(cd "$REPO_ROOT" && "$FORGE" build backend frontend postgres >&2)
(cd "$REPO_ROOT" && CONTAINERD_ADDRESS=$FORGE_LAB_DIR/containerd/containerd.sock \
  "$FORGE" load backend frontend postgres --to containerd >&2)
cp "$CHART/values-dev.yaml" "$VALUES"
(cd "$REPO_ROOT" && "$FORGE" pin --values "$VALUES" >&2)
for component in backend frontend postgres; do
  grep -q "digest: \"\?sha256:" <(sed -n "/^$component:/,/^[a-z]/p" "$VALUES") \
    || fail "forge pin left no digest for $component in $VALUES"
done

step "helm install $RELEASE (values-dev, pinned)"
started=$SECONDS
# The browser and curl reach the frontend at FRONTEND_URL; Better Auth checks that origin.
helm_app install "$RELEASE" "$CHART" -f "$VALUES" --set frontend.publicUrl="$FRONTEND_URL" \
  --create-namespace --wait --timeout 10m >&2
wait_until 300 "release pods Ready" release_ready
figure "install -> all pods Ready" "$((SECONDS - started))s"
kc -n "$APP_NS" get pods -o wide >&2
curl -fsS --max-time 5 "$FRONTEND_URL/api/health" >/dev/null || fail "frontend /api/health on NodePort $FRONTEND_NODEPORT did not answer"
