# shellcheck shell=bash
# A private Docker daemon for tests (source this file).
#
#   dockerd_start DIR   starts Debian's dockerd with its socket, data root, exec root and pid
#                       file under DIR, waits until it answers, and exports
#                       DOCKER_HOST=unix://DIR/docker.sock
#   dockerd_stop DIR    stops that daemon by its pid (never by name) and waits for it to exit
#
# The daemon does no networking setup (no bridge, no iptables) so it cannot disturb the host;
# run containers with `--network none`. Requires root and the `docker.io` package.

source "$(dirname "${BASH_SOURCE[0]}")/service.sh"

dockerd_start() {
  local dir=${1:?usage: dockerd_start DIR}
  mkdir -p "$dir"
  if ! command -v dockerd >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends docker.io >&2
  fi
  # Short exec root: containerd's socket path must stay under the 108-byte unix socket limit.
  local exec_root
  exec_root=$(mktemp -d /tmp/dexec.XXXXXX)
  echo "$exec_root" > "$dir/exec-root.path"
  dockerd \
    --host "unix://$dir/docker.sock" \
    --data-root "$dir/data" \
    --exec-root "$exec_root" \
    --pidfile "$dir/dockerd.pid" \
    --bridge none --iptables=false --ip6tables=false --ip-masq=false \
    >"$dir/dockerd.log" 2>&1 &
  echo $! > "$dir/dockerd.launcher.pid"
  export DOCKER_HOST="unix://$dir/docker.sock"
  service_wait dockerd "$dir/dockerd.launcher.pid" "$dir/dockerd.log" 60 \
    /usr/bin/docker version >/dev/null 2>&1
}

dockerd_stop() {
  local dir=${1:?usage: dockerd_stop DIR}
  # The launcher pid is dockerd's own ($! of the start), known even when start-up failed
  # before dockerd wrote its pid file.
  service_stop "$dir/dockerd.launcher.pid" 30
  if [ -s "$dir/exec-root.path" ]; then
    rm -rf "$(cat "$dir/exec-root.path")"
  fi
  return 0
}
