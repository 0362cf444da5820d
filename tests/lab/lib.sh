# Shared settings and helpers of the lab scripts (up, down, status). Sourced, never run.
#
# The lab is a single-node Kubernetes whose components run as host processes, the way
# Kubernetes' own hack/local-up-cluster.sh runs them. Everything it creates lives under
# $LAB_DIR or carries a "forge-lab" name, so `down` can remove exactly that and nothing else.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LAB_ROOT/../.." && pwd)
TOOLS=$REPO_ROOT/tests/tools

LAB_DIR=${FORGE_LAB_DIR:-/var/lib/forge-lab}
NODE_NAME=forge-lab
# The node address lives on an interface the lab creates (net.sh): cluster traffic never needs
# (or reaches) the machine's real interfaces.
NODE_IFACE=forgelab0
NODE_IP=${FORGE_LAB_NODE_IP:-10.243.0.1}
BRIDGE=forgelab-br0
POD_CIDR=${FORGE_LAB_POD_CIDR:-10.244.0.0/24}
CLUSTER_CIDR=${FORGE_LAB_CLUSTER_CIDR:-10.244.0.0/16}
SERVICE_CIDR=${FORGE_LAB_SERVICE_CIDR:-10.96.0.0/16}
API_SERVICE_IP=10.96.0.1     # first address of SERVICE_CIDR: the `kubernetes` Service
DNS_SERVICE_IP=10.96.0.10
APISERVER_PORT=6443
ETCD_CLIENT_PORT=23790       # not 2379: another etcd on the machine must not collide
ETCD_PEER_PORT=23800
NODEPORT_RANGE=30000-32767
# Pods' cgroups live below this cgroup-v1 root, so `down` finds every process it must stop.
CGROUP_ROOT=forge-lab
FORWARD_CHAIN=FORGE-LAB-FORWARD

PKI=$LAB_DIR/pki
PIDS=$LAB_DIR/pids
LOGS=$LAB_DIR/logs
KUBECONFIG_ADMIN=$LAB_DIR/admin.kubeconfig
CONTAINERD_SOCK=$LAB_DIR/containerd/containerd.sock
CNI_CONF_DIR=$LAB_DIR/cni/net.d
CNI_BIN_DIR=${FORGE_LAB_CNI_BIN_DIR:-/usr/lib/cni}

# The host-wide pieces (interfaces, iptables chains, cgroup root, ports) exist once per
# machine, so one lab runs at a time; this file names the state dir of the one that does.
OWNER_FILE=/run/forge-lab.owner

# lab_owner: the state dir of the lab holding the host-wide pieces, if any.
lab_owner() { cat "$OWNER_FILE" 2>/dev/null || true; }

# Components in start order; `down` stops them in reverse.
COMPONENTS=(etcd kube-apiserver kube-controller-manager pv-permissions kube-scheduler containerd kubelet kube-proxy kube-router)

log() { echo "lab: $*" >&2; }
die() { echo "lab: error: $*" >&2; exit 1; }

# pid_of NAME: the pid recorded for a component if that process still runs, else nothing.
pid_of() {
  local file=$PIDS/$1.pid pid
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# show_log_tail NAME: the last lines of a component's log, for a failure message.
show_log_tail() {
  local file=$LOGS/$1.log
  if [[ -s $file ]]; then
    echo "---- last 40 lines of $file ----" >&2
    tail -n 40 "$file" >&2
    echo "---- end of $file ----" >&2
  fi
}

# start_component NAME COMMAND...: runs COMMAND in the background, its own session, with
# output to $LOGS/NAME.log, and records its pid.
start_component() {
  local name=$1
  shift
  mkdir -p "$PIDS" "$LOGS"
  log "starting $name"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid.tmp"
  mv "$PIDS/$name.pid.tmp" "$PIDS/$name.pid"
}

# wait_for NAME SECONDS CHECK...: polls CHECK once a second until it succeeds. Fails with the
# component's log tail if the process died or the time ran out.
wait_for() {
  local name=$1 seconds=$2 deadline
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if ! pid_of "$name" >/dev/null; then
      show_log_tail "$name"
      die "$name exited during start-up (log above: $LOGS/$name.log)"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$name"
      die "$name did not become ready within ${seconds}s (log above: $LOGS/$name.log)"
    fi
    sleep 1
  done
}

# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL after SECONDS (default 10); waits for exit.
stop_pid() {
  local pid=$1 seconds=${2:-10} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}

kubectl_lab() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# Binaries come from the tool scripts, which build them once per version into the cache.
resolve_binaries() {
  K8S_BIN=$("$TOOLS/kubernetes.sh")
  ETCD=$("$TOOLS/etcd.sh")
  KUBE_ROUTER=$("$TOOLS/kube-router.sh")
}

# Cached binaries only, without building: for `down` and `status`, which must work (and be
# quick) even when a build never finished. Missing ones stay empty.
resolve_cached_binaries() {
  K8S_BIN=$("$TOOLS/kubernetes.sh" --cached 2>/dev/null) || K8S_BIN=
}
