# Checks what the lab needs from the machine and names how to get what is missing.
# Sourced by `up`.

check_prerequisites() {
  local missing=() entry command package plugin
  [[ $(id -u) == 0 ]] || die "the lab runs a kubelet and containerd: run it as root"
  # command:Debian package providing it
  for entry in containerd:containerd ctr:containerd runc:runc iptables:iptables ipset:ipset \
    conntrack:conntrack openssl:openssl ip:iproute2 curl:curl jq:jq setsid:util-linux \
    mount:mount gcc:gcc; do
    command=${entry%%:*} package=${entry#*:}
    command -v "$command" >/dev/null || missing+=("$command (apt-get install $package)")
  done
  for plugin in bridge host-local loopback; do
    [[ -x $CNI_BIN_DIR/$plugin ]] \
      || missing+=("CNI plugin $CNI_BIN_DIR/$plugin (apt-get install containernetworking-plugins, or set FORGE_LAB_CNI_BIN_DIR)")
  done
  [[ -e /sys/fs/cgroup/memory/cgroup.procs ]] \
    || missing+=("a cgroup v1 memory hierarchy at /sys/fs/cgroup/memory (Kubernetes 1.34 with containerd 1.6 here runs on cgroup v1)")
  if ((${#missing[@]})); then
    printf 'lab: missing prerequisite: %s\n' "${missing[@]}" >&2
    exit 1
  fi
}
