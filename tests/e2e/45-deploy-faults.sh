#!/usr/bin/env bash
# Issue 6's bad input for `forge deploy`, against the real lab: a kubeconfig whose server is
# wrong, and a required Secret that does not exist. Each fails in preflight, fast, with an
# error naming the culprit and the fix; nothing is built, loaded or installed; the operations
# log records the failed preflight.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

project=$E2E_WORK/deploy-faults
project_copy "$project"
ops=$project/.forge/ops.jsonl

# expect_preflight_failure WHAT PATTERN... -- DEPLOY-ARGS...: the deploy fails within 30 s,
# its stderr matches every PATTERN, and the last log line is a failed deploy.preflight.
expect_preflight_failure() {
  local what=$1 patterns=() started took out
  shift
  while [[ $1 != -- ]]; do patterns+=("$1"); shift; done
  shift
  started=$SECONDS
  if out=$(lab_deploy "$project" "$@" 2>&1); then
    fail "$what: forge deploy succeeded"
  fi
  took=$((SECONDS - started))
  note "$what: forge deploy said: $out"
  for pattern in "${patterns[@]}"; do
    grep -qF -- "$pattern" <<<"$out" || fail "$what: the error does not say '$pattern'"
  done
  ((took <= 30)) || fail "$what: forge deploy took ${took}s to fail"
  figure "deploy fault: $what -> error" "${took}s"
  jq -e -s 'last | .step == "deploy.preflight" and .outcome == "failed" and (.error | length > 0)' "$ops" >/dev/null \
    || fail "$what: the operations log does not end with the failed preflight"
  jq -e -s 'map(select(.step != "deploy.preflight")) | length == 0' "$ops" >/dev/null \
    || fail "$what: forge deploy went past preflight: $(cat "$ops")"
}

step "forge deploy with a kubeconfig whose server does not answer"
# The lab's kubeconfig, pointed at a loopback port nothing listens on.
wrong=$E2E_WORK/wrong-server.kubeconfig
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -E "s#server: https://[^ ]+#server: https://127.0.0.1:$closed_port#" "$KUBECONFIG" >"$wrong"
grep -q "server: https://127.0.0.1:$closed_port" "$wrong" || fail "could not rewrite the server of $KUBECONFIG"
DEPLOY_KUBECONFIG=$wrong expect_preflight_failure "unreachable cluster" \
  "the API server of context" "127.0.0.1:$closed_port" "fix the kubeconfig ($wrong)" -- \
  --release "$RELEASE" --namespace "$APP_NS"

step "forge deploy with a required Secret missing"
namespace=e2e-no-secret release=todo-no-secret
# Dev values plus an existingSecret that was never created (and a NodePort of its own, so
# the only fault is the Secret).
printf 'secrets:\n  existingSecret: e2e-missing-secret\nfrontend:\n  service:\n    nodePort: 30081\n' \
  >"$E2E_WORK/missing-secret.yaml"
expect_preflight_failure "missing secret" \
  "Secret $namespace/e2e-missing-secret (secrets.existingSecret) does not exist" \
  "kubectl -n $namespace create secret generic e2e-missing-secret" "--from-literal=BETTER_AUTH_SECRET=" -- \
  --release "$release" --namespace "$namespace" --values "$E2E_WORK/missing-secret.yaml"
releases=$(helm_app list --all-namespaces --short | grep -cx "$release" || true)
((releases == 0)) || fail "a release $release exists after the failed deploy"
if kc get namespace "$namespace" >/dev/null 2>&1; then
  fail "namespace $namespace exists after the failed deploy"
fi
