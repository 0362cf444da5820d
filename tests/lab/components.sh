# How each lab component is configured, started and judged ready. Sourced by `up`.
# Every listener binds to loopback or the node's dummy address: nothing is reachable from
# outside the machine.

apiserver_url=https://$NODE_IP:$APISERVER_PORT

curl_ok() { curl -fsS --max-time 3 "$@" >/dev/null; }

start_etcd() {
  mkdir -p "$LAB_DIR/etcd"
  chmod 700 "$LAB_DIR/etcd"
  start_component etcd "$ETCD" \
    --name "$NODE_NAME" \
    --data-dir "$LAB_DIR/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "$NODE_NAME=http://127.0.0.1:$ETCD_PEER_PORT" \
    --listen-metrics-urls "" \
    --quota-backend-bytes 2147483648
  wait_for etcd 60 curl_ok "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
}

start_apiserver() {
  start_component kube-apiserver "$K8S_BIN/kube-apiserver" \
    --advertise-address "$NODE_IP" \
    --bind-address "$NODE_IP" \
    --secure-port "$APISERVER_PORT" \
    --etcd-servers "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-node-port-range "$NODEPORT_RANGE" \
    --authorization-mode Node,RBAC \
    --allow-privileged=true \
    --client-ca-file "$PKI/ca.crt" \
    --tls-cert-file "$PKI/kube-apiserver.crt" \
    --tls-private-key-file "$PKI/kube-apiserver.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/service-account.pub" \
    --service-account-signing-key-file "$PKI/service-account.key" \
    --enable-admission-plugins NodeRestriction \
    --profiling=false
  wait_for kube-apiserver 120 curl_ok --cacert "$PKI/ca.crt" "$apiserver_url/readyz"
}

start_controller_manager() {
  local kubeconfig=$LAB_DIR/kube-controller-manager.kubeconfig
  start_component kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$kubeconfig" \
    --authentication-kubeconfig "$kubeconfig" \
    --authorization-kubeconfig "$kubeconfig" \
    --bind-address 127.0.0.1 \
    --leader-elect=false \
    --root-ca-file "$PKI/ca.crt" \
    --service-account-private-key-file "$PKI/service-account.key" \
    --use-service-account-credentials=true \
    --cluster-signing-cert-file "$PKI/ca.crt" \
    --cluster-signing-key-file "$PKI/ca.key" \
    --allocate-node-cidrs=true \
    --cluster-cidr "$CLUSTER_CIDR" \
    --node-cidr-mask-size 24 \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --enable-hostpath-provisioner=true \
    --profiling=false
  wait_for kube-controller-manager 60 curl_ok -k https://127.0.0.1:10257/healthz
}

start_pv_permissions() {
  start_component pv-permissions "$LAB_ROOT/pv-permissions"
}

start_scheduler() {
  local kubeconfig=$LAB_DIR/kube-scheduler.kubeconfig
  start_component kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$kubeconfig" \
    --authentication-kubeconfig "$kubeconfig" \
    --authorization-kubeconfig "$kubeconfig" \
    --bind-address 127.0.0.1 \
    --leader-elect=false \
    --profiling=false
  wait_for kube-scheduler 60 curl_ok -k https://127.0.0.1:10259/healthz
}

ctr_lab() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

start_containerd() {
  local dir=$LAB_DIR/containerd
  mkdir -p "$dir"
  # Debian's containerd 1.6; config version 2. Root, state, netns mounts and the socket all
  # stay under $LAB_DIR, so this instance is independent of any other containerd here.
  cat >"$dir/config.toml.tmp" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  netns_mounts_under_state_dir = true
  # Sandboxes ask for oom_score_adj -998; lowering it needs CAP_SYS_RESOURCE, which root in
  # some VMs and containers (this project's CI) lacks. Clamp to containerd's own value.
  restrict_oom_score_adj = true
  enable_tls_streaming = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_CONF_DIR"
    max_conf_num = 1
TOML
  mv "$dir/config.toml.tmp" "$dir/config.toml"
  start_component containerd containerd --config "$dir/config.toml"
  wait_for containerd 60 ctr_lab version
}

# has_image REF: whether containerd's k8s.io namespace holds REF. (The listing is read in
# full first: `ctr ... | grep -q` under pipefail fails whenever grep exits before ctr.)
has_image() {
  local images
  images=$(ctr_lab images ls -q) && grep -qxF "$1" <<<"$images"
}

# import_image TAR REF: loads forge's out/<name>.tar into containerd's k8s.io namespace, which
# is where the kubelet (through CRI) looks; skipped when REF is already there. forge's tar is
# a docker-archive and an OCI layout at once; ctr reads the OCI index, so the image keeps
# forge's manifest digest and gets two names: REPO@sha256:... (what digest-pinned pods ask
# for) and REF (the docker-archive's tag, what the lab's manifests use).
import_image() {
  local tar=$1 ref=$2 repository=${2%:*} digest
  if has_image "$ref"; then
    return 0
  fi
  log "importing $ref into containerd (k8s.io namespace)"
  digest=$(tar -xOf "$tar" index.json | jq -er '.manifests[0].digest') \
    || die "$tar has no OCI index.json; rebuild it with forge build"
  ctr_lab images import --base-name "$repository" --digests "$tar" >&2 \
    || die "importing $tar into containerd failed; see $LOGS/containerd.log"
  ctr_lab images tag --force "$repository@$digest" "$ref" >/dev/null \
    || die "could not name the imported $repository@$digest as $ref"
  has_image "$ref" || die "$tar did not provide $ref after import"
}

node_ready() {
  [[ $(kubectl_lab get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]
}

start_kubelet() {
  local dir=$LAB_DIR/kubelet subsystem
  mkdir -p "$dir"
  # The kubelet (cgroupfs driver) wants its cgroup root to exist in every v1 hierarchy.
  for subsystem in /sys/fs/cgroup/*/; do
    [[ -e $subsystem/cgroup.procs ]] && mkdir -p "$subsystem$CGROUP_ROOT"
  done
  cat >"$dir/config.yaml.tmp" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
# Debian's containerd 1.6 and this machine's cgroup v1 hierarchy; Kubernetes 1.34 still
# accepts both (1.35 would not).
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
failCgroupV1: false
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: cluster.local
# Pods get no upstream resolvers: the lab resolves cluster names only.
resolvConf: ""
failSwapOn: false
# Images are imported, never pulled: garbage-collecting them would break pods for good.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# Absolute disk thresholds: on a large disk shared with other work (CI machines, this
# project's parallel builds) even 2% is gigabytes, and evicting the release while that much
# is still free only breaks the tests; below 512Mi nothing would work anyway.
evictionHard:
  memory.available: 100Mi
  nodefs.available: 512Mi
  imagefs.available: 512Mi
maxPods: 110
serializeImagePulls: false
YAML
  mv "$dir/config.yaml.tmp" "$dir/config.yaml"
  start_component kubelet "$K8S_BIN/kubelet" \
    --config "$dir/config.yaml" \
    --kubeconfig "$LAB_DIR/kubelet.kubeconfig" \
    --root-dir "$dir/root" \
    --cert-dir "$dir/pki" \
    --hostname-override "$NODE_NAME" \
    --node-ip "$NODE_IP"
  wait_for kubelet 120 node_ready
}

start_kube_proxy() {
  cat >"$LAB_DIR/kube-proxy.yaml.tmp" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $LAB_DIR/kube-proxy.kubeconfig
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
mode: iptables
clusterCIDR: $CLUSTER_CIDR
# NodePorts answer on loopback and the node address only.
nodePortAddresses: ["127.0.0.0/8", "$NODE_IP/32"]
iptables:
  localhostNodePorts: true
# Zero: leave the machine's conntrack table size and timeouts as they are.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
YAML
  mv "$LAB_DIR/kube-proxy.yaml.tmp" "$LAB_DIR/kube-proxy.yaml"
  start_component kube-proxy "$K8S_BIN/kube-proxy" --config "$LAB_DIR/kube-proxy.yaml"
  wait_for kube-proxy 60 curl_ok http://127.0.0.1:10256/healthz
}

kube_router_ready() { iptables -w -n -L KUBE-ROUTER-FORWARD >/dev/null; }

# NetworkPolicy enforcement: kube-router's firewall only (no routing, no service proxy).
start_kube_router() {
  start_component kube-router "$KUBE_ROUTER" \
    --kubeconfig "$LAB_DIR/kube-router.kubeconfig" \
    --hostname-override "$NODE_NAME" \
    --run-firewall=true \
    --run-router=false \
    --run-service-proxy=false \
    --run-loadbalancer=false \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-node-port-range "$NODEPORT_RANGE" \
    --health-port 0 \
    --metrics-port 0
  wait_for kube-router 60 kube_router_ready
}
