#!/usr/bin/env bash
# Chart suite (issue 7): charts/todo-app is linted, rendered for every profile, validated
# against Kubernetes 1.28 and the newest schema, scanned by checkov, unit-tested with
# helm-unittest and checked for secret leaks. All tools are real: helm and helm-unittest built
# from the Go module proxy, kubernetes-validate and checkov from PyPI in a cached venv.
# Runs every check even after a failure and ends with "chart: N passed, M failed".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHART="$ROOT/charts/todo-app"
CACHE="${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}"
# Pinned so a run is reproducible; bump deliberately.
# PyYAML (used by the chart scripts) comes with both.
PY_REQUIREMENTS="checkov==3.3.30 kubernetes-validate==1.37.0"
MIN_KUBE="1.28.0"
# Digest written where `forge pin` writes real ones, for the scans of the deployable state.
PIN_DIGEST="sha256:$(printf 'forge pin stand-in' | sha256sum | cut -d' ' -f1)"

log() { echo "chart.sh: $*" >&2; }
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  # Newest first (the API server before its etcd); a process still alive after 15 s of
  # SIGTERM gets SIGKILL. `|| true`: under set -e a failing command would end the trap early.
  local i pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid="${PIDS[$i]}"
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
started=$SECONDS

# --- tools -----------------------------------------------------------------------------------
HELM="$("$ROOT/tests/tools/helm.sh")"
export HELM_PLUGINS
HELM_PLUGINS="$("$ROOT/tests/tools/helm-unittest.sh")"
# Keep helm away from the user's repositories/registry config: the suite needs none of it.
export HELM_CONFIG_HOME="$WORK/helm-config" HELM_CACHE_HOME="$WORK/helm-cache" HELM_DATA_HOME="$WORK/helm-data"

python_venv() {
  local key venv
  key="$(printf '%s %s' "$PY_REQUIREMENTS" "$(python3 -c 'import sys; print(sys.version.split()[0])')" | sha256sum | cut -c1-16)"
  venv="$CACHE/chart-venv-$key"
  # .complete is written last: a venv from an interrupted install is rebuilt, never used.
  if [[ ! -f "$venv/.complete" ]]; then
    log "creating $venv with $PY_REQUIREMENTS"
    rm -rf "$venv" && mkdir -p "$CACHE"
    if command -v uv >/dev/null; then
      uv venv --quiet --python python3 "$venv" >&2
      # shellcheck disable=SC2086
      VIRTUAL_ENV="$venv" uv pip install --quiet $PY_REQUIREMENTS >&2
    else
      python3 -m venv "$venv"
      # shellcheck disable=SC2086
      "$venv/bin/pip" install --quiet $PY_REQUIREMENTS >&2
    fi
    touch "$venv/.complete"
  fi
  echo "$venv"
}
VENV="$(python_venv)"

# Pod Security admission's own checks (k8s.io/pod-security-admission), built once per source.
psa_check() {
  local src="$CHART/scripts/psa-check" key bin
  key="$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-16)"
  bin="$CACHE/psa-check-$key/psa-check"
  if [[ ! -x "$bin" ]]; then
    log "building $src into $bin"
    mkdir -p "$CACHE/psa-check-$key"
    (cd "$src" && CGO_ENABLED=0 go build -mod=readonly -trimpath -o "$bin.tmp" .) >&2
    mv "$bin.tmp" "$bin"
  fi
  echo "$bin"
}
PSA_CHECK="$(psa_check)"
PY="$VENV/bin/python"
NEWEST_KUBE="$("$PY" -c 'import kubernetes_validate.utils as u; print(u.latest_version())')"
log "helm $("$HELM" version --template '{{.Version}}'), kubernetes-validate schemas $MIN_KUBE and $NEWEST_KUBE, checkov $("$VENV/bin/checkov" --version)"

# --- harness ---------------------------------------------------------------------------------
passed=0 failed=0
check() { # check NAME COMMAND...: run one check, record the outcome, keep going
  local name="$1"; shift
  if "$@" >"$WORK/out" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; sed 's/^/     /' "$WORK/out"
  fi
}
expect_failure() { # expect_failure PATTERN COMMAND...: the command must fail and say PATTERN
  local pattern="$1"; shift
  if "$@" >"$WORK/expect" 2>&1; then echo "expected a failure, but it succeeded"; return 1; fi
  grep -Eq -- "$pattern" "$WORK/expect" || { echo "failed without naming /$pattern/:"; cat "$WORK/expect"; return 1; }
}
render() { # render OUT [helm args...]
  local out="$1"; shift
  "$HELM" template todo-local "$CHART" --namespace todo "$@" >"$out"
}
cd "$CHART"

# --- lint and render -------------------------------------------------------------------------
declare -A PROFILE_ARGS=([default]="" [dev]="-f values-dev.yaml" [prod]="-f values-prod.yaml")
for profile in default dev prod; do
  # shellcheck disable=SC2086
  check "helm lint --strict ($profile)" "$HELM" lint --strict . ${PROFILE_ARGS[$profile]}
  # shellcheck disable=SC2086
  check "helm template ($profile)" render "$WORK/$profile.yaml" ${PROFILE_ARGS[$profile]}
done
# Every toggle off the default path renders valid objects too.
check "helm template (toggles: namespace, ingress, LoadBalancer, HPA/PDB, spreading)" \
  render "$WORK/toggles.yaml" --set namespace.create=true,namespace.name=taskflow \
  --set ingress.enabled=true,ingress.host=todo.example.org,frontend.service.type=LoadBalancer \
  --set backend.autoscaling.enabled=true,backend.pdb.enabled=true,scheduling.podAntiAffinity=hard,scheduling.topologySpread=true
check "helm template (external database, migration hook, chart-made secrets)" \
  render "$WORK/external.yaml" --set postgres.enabled=false,secrets.databaseUrl=postgresql://u:p@db.example.com/app

# --- schema validation -----------------------------------------------------------------------
for profile in default dev prod toggles external; do
  for version in "$MIN_KUBE" "$NEWEST_KUBE"; do
    check "kubernetes-validate --strict $version ($profile)" \
      "$VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "$WORK/$profile.yaml"
  done
done

# --- Pod Security Standard "restricted", as the admission controller evaluates it ------------
check "every pod template passes Pod Security 'restricted' (v1.28 and latest)" \
  "$PSA_CHECK" -version v1.28 -version latest "$WORK"/{default,dev,prod,toggles,external}.yaml

# --- checkov on the deployable (digest-pinned) dev and prod renders ---------------------------
mkdir -p "$WORK/checkov"
render_pinned() {
  "$HELM" template todo-local . -n todo -f values-dev.yaml \
    --set "backend.image.digest=$PIN_DIGEST,frontend.image.digest=$PIN_DIGEST,postgres.image.digest=$PIN_DIGEST" >"$WORK/checkov/dev.yaml" &&
  "$HELM" template taskflow . -n taskflow -f values-prod.yaml \
    --set "backend.image.digest=$PIN_DIGEST,frontend.image.digest=$PIN_DIGEST" >"$WORK/checkov/prod.yaml"
}
check "render pinned dev/prod for checkov" render_pinned
# --skip-download: no Prisma Cloud look-ups (there is no network, and none is needed).
"$VENV/bin/checkov" -d "$WORK/checkov" --framework kubernetes --skip-download --quiet -o json \
  >"$WORK/checkov.json" 2>"$WORK/checkov.err" || true
check "checkov: zero failed checks beyond policies/checkov.yaml" \
  "$PY" scripts/checkov-gate.py "$ROOT/policies/checkov.yaml" "$WORK/checkov.json"

# --- helm-unittest ---------------------------------------------------------------------------
check "helm unittest" "$HELM" unittest --color=false .
unittest_count="$(sed -n 's/^Tests: *\([0-9]*\) passed.*/\1/p' "$WORK/out" 2>/dev/null || true)"

# --- secrets ---------------------------------------------------------------------------------
CANARIES=(canary-auth-3a9f0e1c7b2d4e6f8a0b1c2d3e4f5a6b canary-openai-5d7e9f canary-pg-8c1b2a)
render_canaries() {
  render "$WORK/canary-dev.yaml" -f values-dev.yaml \
    --set "secrets.betterAuthSecret=${CANARIES[0]},secrets.openaiApiKey=${CANARIES[1]},postgres.auth.password=${CANARIES[2]}" &&
  render "$WORK/canary-ext.yaml" \
    --set "postgres.enabled=false,secrets.databaseUrl=postgresql://u:${CANARIES[2]}@db.example.com/app,secrets.betterAuthSecret=${CANARIES[0]}"
}
check "render with canary secrets (dev and external-DB)" render_canaries
check "no secret value in values files or outside Secrets in any render" \
  "$PY" scripts/check-secrets.py --values values.yaml values-dev.yaml values-prod.yaml \
  --canary "${CANARIES[0]}" --canary "${CANARIES[1]}" --canary "${CANARIES[2]}" \
  "$WORK"/{default,dev,prod,toggles,external,canary-dev,canary-ext}.yaml
check "prod render without secrets fails naming secrets.existingSecret" \
  expect_failure 'secrets\.existingSecret' render "$WORK/x.yaml" -f values-prod.yaml --set secrets.existingSecret=
check "prod render without database CIDRs fails naming externalDatabase.cidrs" \
  expect_failure 'externalDatabase\.cidrs' render "$WORK/x.yaml" -f values-prod.yaml --set-json 'externalDatabase.cidrs=[]'
check "render without any database fails naming secrets.databaseUrl" \
  expect_failure 'secrets\.databaseUrl' render "$WORK/x.yaml" --set postgres.enabled=false

# --- bad input through the real helm CLI (the unit tests cover the same through the engine) ----
check "latest tag rejected"     expect_failure 'backend/image/tag' render "$WORK/x.yaml" --set backend.image.tag=latest
check "empty tag rejected"      expect_failure 'frontend/image/tag' render "$WORK/x.yaml" --set frontend.image.tag=
check "unknown key rejected"    expect_failure "additional properties 'replica' not allowed|replica" render "$WORK/x.yaml" --set backend.replica=2
check "NodePort range enforced" expect_failure 'frontend/service/nodePort' render "$WORK/x.yaml" -f values-dev.yaml --set frontend.service.nodePort=30
check "ingress needs a host"    expect_failure 'ingress[./]host' render "$WORK/x.yaml" --set ingress.enabled=true
check "prod rejects 0 replicas" expect_failure 'backend\.replicaCount >= 1' render "$WORK/x.yaml" -f values-prod.yaml --set backend.autoscaling.enabled=false,backend.replicaCount=0
check "Kubernetes < 1.28 refused (kubeVersion)" expect_failure 'kubeVersion' render "$WORK/x.yaml" --kube-version 1.27.9
check "negative replicas rejected" expect_failure 'frontend/replicaCount' render "$WORK/x.yaml" --set frontend.replicaCount=-1

# --- config changes roll pods, unrelated ones do not -------------------------------------------
config_checksum() { # config_checksum COMPONENT [helm args...]
  local component="$1"; shift
  render "$WORK/cs.yaml" "$@" --show-only "templates/$component/deployment.yaml" &&
    sed -n 's/.*checksum\/config: //p' "$WORK/cs.yaml"
}
checksum_rolls() {
  local before after frontend_before frontend_after
  before="$(config_checksum backend)"; after="$(config_checksum backend --set backend.logLevel=debug)"
  frontend_before="$(config_checksum frontend)"; frontend_after="$(config_checksum frontend --set backend.logLevel=debug)"
  [[ -n "$before" && "$before" != "$after" ]] || { echo "backend checksum/config did not change ($before)"; return 1; }
  [[ "$frontend_before" == "$frontend_after" ]] || { echo "frontend pods would roll for a backend-only change"; return 1; }
}
check "checksum/config rolls exactly the changed component" checksum_rolls

# --- dev fits the 2 CPU / 4 GiB budget ---------------------------------------------------------
check "dev requests and limits fit well inside 2 CPU / 4 GiB (surge included)" "$PY" - "$WORK/dev.yaml" <<'PYEOF'
import sys, yaml
def cpu(q): q = str(q); return float(q[:-1]) / 1000 if q.endswith("m") else float(q)
def mem(q):
    q = str(q); units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return float(q[:-2]) * units[q[-2:]] if q[-2:] in units else float(q)
totals = {"requests": [0.0, 0.0], "limits": [0.0, 0.0]}
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if not doc or doc["kind"] not in ("Deployment", "StatefulSet", "Job"):
        continue
    spec = doc["spec"]
    # Pods alive at once: replicas, plus one surge pod per Deployment during an update.
    pods = spec.get("replicas", 1) + (spec.get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 0) if doc["kind"] == "Deployment" else 0)
    for c in spec["template"]["spec"]["containers"]:
        for kind in totals:
            totals[kind][0] += pods * cpu(c["resources"][kind]["cpu"])
            totals[kind][1] += pods * mem(c["resources"][kind]["memory"])
for kind, (c, m) in totals.items():
    print(f"dev {kind} at peak: {c:.2f} CPU, {m / 2**30:.2f} GiB")
requests, limits = totals["requests"], totals["limits"]
# Budget: a 2 CPU / 4 GiB machine also runs the cluster itself.
sys.exit(0 if requests[0] <= 1.0 and requests[1] <= 2 * 2**30 and limits[0] <= 1.6 and limits[1] <= 3 * 2**30 else 1)
PYEOF
sed 's/^/     /' "$WORK/out"

# --- a real API server: admission, server-side validation, upgrade/uninstall behaviour -------
# etcd and kube-apiserver come from the lab's tool scripts (issue 8), built once and cached;
# no kubelet or controllers run, so nothing here needs root, a container runtime or a network.
apiserver_start() {
  local dir="$WORK/apiserver" kube etcd ports
  kube="$("$ROOT/tests/tools/kubernetes.sh")" && etcd="$("$ROOT/tests/tools/etcd.sh")" || return 1
  command -v openssl >/dev/null ||
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends openssl >&2
  mkdir -p "$dir/etcd" "$dir/certs"
  read -r -a ports < <("$PY" -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  APISERVER_TOKEN="$(head -c 24 /dev/urandom | sha256sum | cut -c1-40)"
  echo "$APISERVER_TOKEN,chart-check,chart-check,system:masters" >"$dir/tokens.csv"
  "$etcd" --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:${ports[0]}" \
    --advertise-client-urls "http://127.0.0.1:${ports[0]}" --listen-peer-urls "http://127.0.0.1:${ports[1]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ports[1]}" --initial-cluster "default=http://127.0.0.1:${ports[1]}" \
    >"$dir/etcd.log" 2>&1 &
  PIDS+=($!)
  "$kube/kube-apiserver" --etcd-servers "http://127.0.0.1:${ports[0]}" --bind-address 127.0.0.1 \
    --advertise-address 127.0.0.1 --secure-port "${ports[2]}" --cert-dir "$dir/certs" \
    --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC \
    --service-account-key-file "$dir/sa.key" --service-account-signing-key-file "$dir/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range 10.97.0.0/16 \
    >"$dir/apiserver.log" 2>&1 &
  PIDS+=($!)
  APISERVER="https://127.0.0.1:${ports[2]}"
  cat >"$dir/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: check, cluster: {server: "$APISERVER", insecure-skip-tls-verify: true}}]
users: [{name: check, user: {token: "$APISERVER_TOKEN"}}]
contexts: [{name: check, context: {cluster: check, user: check}}]
current-context: check
KUBECONFIG

  for _ in $(seq 1 90); do
    curl -skf -H "Authorization: Bearer $APISERVER_TOKEN" "$APISERVER/readyz" >/dev/null && return 0
    sleep 2
  done
  echo "kube-apiserver did not become ready in 180 s; its log:"; tail -20 "$dir/apiserver.log"; return 1
}
skipped=0
if [[ -x "$ROOT/tests/tools/kubernetes.sh" && -x "$ROOT/tests/tools/etcd.sh" ]]; then
  check "etcd + kube-apiserver on loopback" apiserver_start
  check "install/upgrade/uninstall on a real API server (scripts/cluster-check.py)" \
    env KUBECONFIG="$WORK/apiserver/kubeconfig" "$PY" scripts/cluster-check.py \
    --helm "$HELM" --server "${APISERVER:-unset}" --token "${APISERVER_TOKEN:-unset}" --chart "$CHART"
  sed 's/^/     /' "$WORK/out"
else
  skipped=$((skipped + 1))
  echo "SKIP real API server checks: tests/tools/kubernetes.sh and etcd.sh (lab, issue 8) are not in this tree"
fi

# --- README values table -----------------------------------------------------------------------
check "README values table matches values.yaml (scripts/values-table.py --check)" "$PY" scripts/values-table.py --check

log "finished in $((SECONDS - started))s; helm-unittest cases: ${unittest_count:-?}"
echo "chart: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
