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

# project_copy DIR: a scratch copy of the project for steps that change sources or let forge
# deploy rewrite values files; the checkout under test is never modified. It is a clone at
# the same commit (forge labels images with the commit, so unchanged images keep their
# digests) with the checkout's uncommitted changes on top; nothing git ignores (out/,
# .forge/, node_modules) is copied.
project_copy() {
  local dir=$1
  rm -rf "$dir"
  git -C "$REPO_ROOT" rev-parse HEAD >/dev/null 2>&1 || fail "$REPO_ROOT is not a git checkout; the e2e steps copy the project with git"
  git clone -q --shared "$REPO_ROOT" "$dir" || fail "cannot clone the project to $dir"
  git -C "$dir" checkout -q --detach "$(git -C "$REPO_ROOT" rev-parse HEAD)"
  (cd "$REPO_ROOT" && git ls-files -z --modified --others --exclude-standard | tar --null -T - --ignore-failed-read -cf -) \
    | tar -C "$dir" -xf - || fail "cannot copy the uncommitted changes to $dir"
  (cd "$REPO_ROOT" && git ls-files -z --deleted) | (cd "$dir" && xargs -0 -r rm -f)
}

# replace_once FILE OLD NEW: a one-line edit that fails loudly when OLD is not in FILE exactly
# once (the source it patches changed: update the step).
replace_once() {
  local file=$1 old=$2 new=$3 text
  [[ $(grep -cF -- "$old" "$file") == 1 ]] || fail "$file does not contain '$old' exactly once; update the step that edits it"
  text=$(<"$file")
  printf '%s\n' "${text/"$old"/"$new"}" >"$file"
}

# lab_deploy DIR ARGS...: `forge deploy` of the project copy DIR against the lab (its
# containerd and kubeconfig, or DEPLOY_KUBECONFIG); prints forge's stdout.
lab_deploy() {
  local dir=$1
  shift
  (cd "$dir" && CONTAINERD_ADDRESS=$FORGE_LAB_DIR/containerd/containerd.sock HELM=$HELM KUBECTL=$KUBECTL \
    "$FORGE" deploy --env dev --load-to containerd --kubeconfig "${DEPLOY_KUBECONFIG:-$KUBECONFIG}" "$@")
}
