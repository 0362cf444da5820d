# Helpers shared by the e2e steps (tests/e2e/NN-*.sh). Sourced; expects the environment
# tests/suites/e2e.sh exports: KUBECTL, KUBECONFIG, E2E_WORK, FIGURES, REPO_ROOT, PROBE_IMAGE.

step() { echo "e2e: == $*" >&2; }
note() { echo "e2e: $*" >&2; }
fail() { echo "e2e: FAIL: $*" >&2; exit 1; }

kc() { "$KUBECTL" "$@"; }

# figure NAME VALUE: records a measured figure for the suite's closing summary.
figure() {
  printf '%-44s %s\n' "$1" "$2" >>"$FIGURES"
  note "figure: $1 = $2"
}

# run_probe NAMESPACE NAME ARGS...: runs `probe ARGS` once in a pod, prints its output and
# returns 0 if it succeeded. The pod is removed afterwards. PROBE_LABELS=k=v,... adds labels.
run_probe() {
  local ns=$1 name=$2 phase i
  shift 2
  kc -n "$ns" run "$name" --image="$PROBE_IMAGE" --image-pull-policy=Never --restart=Never \
    --labels="app.kubernetes.io/part-of=forge-e2e${PROBE_LABELS:+,$PROBE_LABELS}" --command -- /probe "$@" >/dev/null
  phase=
  for ((i = 0; i < 90; i++)); do
    phase=$(kc -n "$ns" get pod "$name" -o jsonpath='{.status.phase}')
    [[ $phase == Succeeded || $phase == Failed ]] && break
    sleep 1
  done
  kc -n "$ns" logs "$name" || fail "no logs of probe pod $ns/$name"
  kc -n "$ns" delete pod "$name" --wait=false >/dev/null
  case $phase in
    Succeeded) return 0 ;;
    Failed) return 1 ;;
    *) fail "probe pod $ns/$name did not finish within 90s (phase '$phase')" ;;
  esac
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND once a second.
wait_until() {
  local seconds=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$what: not reached within ${seconds}s"
    sleep 1
  done
}

# The TaskFlow release the app steps (20 and up) install and exercise.
RELEASE=todo-local
APP_NS=todo-e2e
CHART=$REPO_ROOT/charts/todo-app
FRONTEND_NODEPORT=30080   # charts/todo-app/values-dev.yaml
FRONTEND_URL=http://127.0.0.1:$FRONTEND_NODEPORT
VALUES=$E2E_WORK/values-dev.yaml   # the pinned copy step 20 writes
helm_app() { "$HELM" --kubeconfig "$KUBECONFIG" --namespace "$APP_NS" "$@"; }

# release_ready: every Deployment and StatefulSet of the release fully rolled out.
release_ready() {
  local kind
  for kind in deployment statefulset; do
    kc -n "$APP_NS" rollout status "$kind" -l "app.kubernetes.io/instance=$RELEASE" --timeout=5s >/dev/null 2>&1 || return 1
  done
}
