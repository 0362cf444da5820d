#!/usr/bin/env bash
# The lab survives a full stop and start (tests/lab/down, then up, state kept): the node
# comes back Ready, a Deployment's pod runs again, and data written to a claim before the
# stop is still there. Measures the recovery time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=e2e-lab-restart
cleanup_namespace() { kc delete namespace "$ns" --ignore-not-found --wait=false >/dev/null 2>&1 || true; }
trap cleanup_namespace EXIT
kc create namespace "$ns" >/dev/null
wait_until 30 "default service account in $ns" kc -n "$ns" get serviceaccount default

step "before the restart: a Deployment and a claim with data"
kc -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: keeper}
spec:
  replicas: 1
  selector: {matchLabels: {app: keeper}}
  template:
    metadata: {labels: {app: keeper}}
    spec:
      initContainers:
      - name: write
        image: $PROBE_IMAGE
        imagePullPolicy: Never
        args: [write, /data/before-restart, kept]
        volumeMounts: [{name: data, mountPath: /data}]
      containers:
      - name: serve
        image: $PROBE_IMAGE
        imagePullPolicy: Never
        args: [serve, ":8080"]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
        volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, persistentVolumeClaim: {claimName: data}}]
YAML
kc -n "$ns" rollout status deployment/keeper --timeout=120s >&2
pod=$(kc -n "$ns" get pods -l app=keeper -o jsonpath='{.items[0].metadata.name}')
restarts() { kc -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].restartCount}'; }
restarts_before=$(restarts)

step "stop every lab component, start them again"
"$REPO_ROOT/tests/lab/down" >&2
started=$SECONDS
"$REPO_ROOT/tests/lab/up" >/dev/null
up_seconds=$((SECONDS - started))
# The Deployment's status still says Available from before the stop; what counts is the
# pod's container running again (restarted by the kubelet in a new sandbox) and Ready.
back_and_ready() {
  (($(restarts) > restarts_before)) &&
    [[ $(kc -n "$ns" get pod "$pod" -o jsonpath='{.status.containerStatuses[0].ready}') == true ]]
}
wait_until 180 "pod $pod restarted and Ready" back_and_ready
recovered=$((SECONDS - started))
figure "restart: lab up after down (state kept)" "${up_seconds}s"
figure "restart: down -> workload Ready again" "${recovered}s"

step "the data written before the restart is still there"
out=$(kc -n "$ns" exec deploy/keeper -c serve -- /probe cat /data/before-restart) \
  || fail "could not read the claim after the restart"
[[ $out == kept ]] || fail "the claim holds '$out' after the restart, not 'kept'"
note "claim data survived the restart"
