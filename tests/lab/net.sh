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

# net_down: removes what net_up and the CNI bridge plugin created. Idempotent.
net_down() {
  if iptables -w -C FORWARD -j "$FORWARD_CHAIN" 2>/dev/null; then
    iptables -w -D FORWARD -j "$FORWARD_CHAIN"
  fi
  if iptables -w -L "$FORWARD_CHAIN" -n >/dev/null 2>&1; then
    iptables -w -F "$FORWARD_CHAIN"
    iptables -w -X "$FORWARD_CHAIN"
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
  ip link del "$NODE_IFACE" 2>/dev/null || true
  # Leases of pods that no longer exist; a fresh start allocates anew.
  rm -rf "$LAB_DIR/cni/ipam"
}
