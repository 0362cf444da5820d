# shellcheck shell=bash
# Debian's containerd with its own root, state and socket under DIR, for import tests.
# Source this file, then:
#   containerd_start DIR   exports CONTAINERD_ADDRESS=DIR/containerd.sock (ctr honours it)
#   containerd_stop DIR    stops it by the pid it recorded
# Installs containerd (and runc) with apt when missing. Only the content store and image
# service are exercised, so the CRI plugin is disabled to keep it quiet and fast.

source "$(dirname "${BASH_SOURCE[0]}")/service.sh"

containerd_install() {
    if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
        apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends containerd runc >&2
    fi
}

containerd_start() {
    local dir=$1
    containerd_install
    mkdir -p "$dir/root" "$dir/state"
    cat >"$dir/config.toml" <<CONFIG
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
[ttrpc]
  address = "$dir/containerd.sock.ttrpc"
[debug]
  address = "$dir/debug.sock"
CONFIG
    containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
    echo $! >"$dir/containerd.pid"
    service_wait containerd "$dir/containerd.pid" "$dir/containerd.log" 10 \
        ctr --address "$dir/containerd.sock" version >/dev/null 2>&1 || return 1
    export CONTAINERD_ADDRESS="$dir/containerd.sock"
}

containerd_stop() {
    service_stop "$1/containerd.pid" 10
}
