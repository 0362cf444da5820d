# shellcheck shell=bash
# Debian's containerd with its own root, state and socket under DIR, for import tests.
# Source this file, then:
#   containerd_start DIR   exports CONTAINERD_ADDRESS=DIR/containerd.sock (ctr honours it)
#   containerd_stop DIR    stops it by the pid it recorded
# Installs containerd (and runc) with apt when missing. Only the content store and image
# service are exercised, so the CRI plugin is disabled to keep it quiet and fast.

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
    for _ in $(seq 1 100); do
        if [ -S "$dir/containerd.sock" ] && ctr --address "$dir/containerd.sock" version >/dev/null 2>&1; then
            export CONTAINERD_ADDRESS="$dir/containerd.sock"
            return 0
        fi
        if ! kill -0 "$(cat "$dir/containerd.pid")" 2>/dev/null; then
            echo "containerd_start: containerd exited; log follows" >&2
            cat "$dir/containerd.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "containerd_start: no answer on $dir/containerd.sock after 10 s; see $dir/containerd.log" >&2
    return 1
}

containerd_stop() {
    local dir=$1 pid
    [ -f "$dir/containerd.pid" ] || return 0
    pid=$(cat "$dir/containerd.pid")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$dir/containerd.pid"
}
