# shellcheck shell=bash
# Debian's docker-registry (distribution 2.8) on loopback with htpasswd auth, for push/pull tests.
# Source this file, then:
#   registry_start DIR PORT USER PASSWORD   config, htpasswd and blob storage under DIR;
#                                           exports REGISTRY_ADDR=127.0.0.1:PORT
#   registry_stop DIR                        stops it by the pid it recorded
# Installs docker-registry and apache2-utils (htpasswd) with apt when missing.

registry_install() {
    if ! command -v docker-registry >/dev/null || ! command -v htpasswd >/dev/null; then
        apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends \
            docker-registry apache2-utils >&2
    fi
}

registry_start() {
    local dir=$1 port=$2 user=$3 password=$4
    registry_install
    mkdir -p "$dir/data"
    htpasswd -Bbc "$dir/htpasswd" "$user" "$password" >/dev/null 2>&1
    cat >"$dir/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  secret: forge-loopback-test-only
  addr: 127.0.0.1:$port
auth:
  htpasswd:
    realm: forge-test
    path: $dir/htpasswd
CONFIG
    docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    echo $! >"$dir/registry.pid"
    for _ in $(seq 1 100); do
        # 401 means it is up and asking for credentials.
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/")" = 401 ]; then
            export REGISTRY_ADDR="127.0.0.1:$port"
            return 0
        fi
        if ! kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null; then
            echo "registry_start: docker-registry exited; log follows" >&2
            cat "$dir/registry.log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "registry_start: no answer on 127.0.0.1:$port after 10 s; see $dir/registry.log" >&2
    return 1
}

registry_stop() {
    local dir=$1 pid
    [ -f "$dir/registry.pid" ] || return 0
    pid=$(cat "$dir/registry.pid")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$dir/registry.pid"
}
