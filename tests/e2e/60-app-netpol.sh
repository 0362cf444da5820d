#!/usr/bin/env bash
# Issue 8, step 6: the chart's NetworkPolicies bite. A pod in another namespace cannot reach
# the backend; a pod carrying the frontend's labels (the peer the policy admits) can.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

outside=e2e-outside
trap 'kc delete namespace "$outside" --ignore-not-found --wait=false >/dev/null 2>&1 || true' EXIT
backend_url="http://$RELEASE-todo-app-backend.$APP_NS.svc.cluster.local:8000/healthz"
kc get namespace "$outside" >/dev/null 2>&1 || kc create namespace "$outside" >/dev/null
wait_until 30 "default service account in $outside" kc -n "$outside" get serviceaccount default

step "a pod in another namespace cannot reach the backend"
if out=$(run_probe "$outside" intruder get "$backend_url" 6); then
  fail "a pod in $outside reached the backend through the NetworkPolicy: $out"
fi

step "a pod with the frontend's labels reaches the backend"
frontend_labels=$(kc -n "$APP_NS" get deployment "$RELEASE-todo-app-frontend" \
  -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}')
kc -n "$APP_NS" run as-frontend --image="$PROBE_IMAGE" --image-pull-policy=Never --restart=Never \
  --labels="${frontend_labels%,}" --command -- /probe get "$backend_url" 20 >/dev/null
wait_until 60 "as-frontend finished" bash -c \
  "[[ \$('$KUBECTL' -n $APP_NS get pod as-frontend -o jsonpath='{.status.phase}') =~ Succeeded|Failed ]]"
phase=$(kc -n "$APP_NS" get pod as-frontend -o jsonpath='{.status.phase}')
kc -n "$APP_NS" logs as-frontend >&2 || true
kc -n "$APP_NS" delete pod as-frontend --wait=false >/dev/null
[[ $phase == Succeeded ]] || fail "a pod with the frontend's labels could not reach the backend"
