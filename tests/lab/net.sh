# Host networking of the lab: the node's dummy interface, the CNI bridge config, the
# forwarding sysctls and the lab's own iptables chains. Sourced by `up` and `down`.

net_up() {
  # A veth pair rather than a dummy interface: some kernels (this project's CI) lack
  # CONFIG_DUMMY, all container hosts have veth. The peer end only keeps the carrier up.
  if ! ip link show "$NODE_IFACE" >/dev/null 2>&1; then
    ip link add "$NODE_IFACE" type veth peer name "$NODE_IFACE-peer"
  fi
  ip addr replace "$NODE_IP/32" dev "$NODE_IFACE"
  ip link set "$NODE_IFACE-peer" up
  ip link set "$NODE_IFACE" up

  # Pods reach each other and the node through a bridge. br_netfilter makes bridged traffic
  # traverse iptables, which Service NAT and the NetworkPolicy firewall both rely on.
  [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] \
    || die "the kernel has no br_netfilter (/proc/sys/net/bridge missing); run 'modprobe br_netfilter' as root"
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1

  mkdir -p "$CNI_CONF_DIR" "$LAB_DIR/cni/ipam"
  # No ipMasq: pods only talk to each other and to the node; nothing leaves the machine.
  cat >"$CNI_CONF_DIR/10-forge-lab.conflist.tmp" <<CNI
{
  "cniVersion": "1.0.0",
  "name": "forge-lab",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$LAB_DIR/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
CNI
  mv "$CNI_CONF_DIR/10-forge-lab.conflist.tmp" "$CNI_CONF_DIR/10-forge-lab.conflist"

  # A dockerd started on this machine sets the FORWARD policy to DROP. The lab's own chain,
  # appended (not inserted) to FORWARD, accepts pod traffic only after the NetworkPolicy
  # firewall (kube-router's chains, inserted at the top) has had its say.
  iptables -w -N "$FORWARD_CHAIN" 2>/dev/null || iptables -w -F "$FORWARD_CHAIN"
  iptables -w -A "$FORWARD_CHAIN" -s "$CLUSTER_CIDR" -j ACCEPT
  iptables -w -A "$FORWARD_CHAIN" -d "$CLUSTER_CIDR" -j ACCEPT
  iptables -w -C FORWARD -j "$FORWARD_CHAIN" 2>/dev/null || iptables -w -A FORWARD -j "$FORWARD_CHAIN"
}

# Chains the lab's components create besides kube-proxy's own (removed by
# `kube-proxy --cleanup`): the kubelet's, kube-router's firewall, and the lab's.
LAB_CHAINS='KUBE-FIREWALL|KUBE-KUBELET-CANARY|KUBE-PROXY-CANARY|KUBE-IPTABLES-HINT|KUBE-ROUTER-[A-Z]+|KUBE-POD-FW-[A-Z0-9]+|KUBE-NWPLCY-[A-Z0-9]+|FORGE-LAB-[A-Z]+'

# remove_lab_chains: in every table, empties the matching chains, deletes the rules of
# other chains that jump to them, then deletes them. Rules are taken from iptables-save,
# whose quoting the shell reads back as written.
remove_lab_chains() {
  local table chain rule
  for table in filter nat mangle raw; do
    local chains=()
    mapfile -t chains < <(iptables-save -t "$table" | sed -nE "s/^:($LAB_CHAINS) .*/\1/p")
    ((${#chains[@]})) || continue
    for chain in "${chains[@]}"; do iptables -w -t "$table" -F "$chain"; done
    while IFS= read -r rule; do
      eval "iptables -w -t $table -D ${rule#-A }"
    done < <(iptables-save -t "$table" | grep -E -- "^-A .* -j ($LAB_CHAINS)( |\$)")
    for chain in "${chains[@]}"; do iptables -w -t "$table" -X "$chain"; done
  done
}

# net_down: removes what net_up, the CNI bridge plugin, the kubelet and kube-router created
# on the host network. Idempotent.
net_down() {
  remove_lab_chains
  # kube-router's ipsets, now that no rule refers to them.
  ipset list -n 2>/dev/null | grep -E '^(KUBE-(SRC|DST)-|kube-router-)' | xargs -r -n1 ipset destroy 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$NODE_IFACE" 2>/dev/null || true
  # Leases of pods that no longer exist; a fresh start allocates anew.
  rm -rf "$LAB_DIR/cni/ipam"
}
