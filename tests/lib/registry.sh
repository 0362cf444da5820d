# shellcheck shell=bash
# Debian's docker-registry (distribution 2.8) on loopback with htpasswd auth, for push/pull tests.
# Source this file, then:
#   registry_start DIR PORT USER PASSWORD   config, htpasswd and blob storage under DIR;
#                                           exports REGISTRY_ADDR=127.0.0.1:PORT
#   registry_stop DIR                        stops it by the pid it recorded
# Installs docker-registry and apache2-utils (htpasswd) with apt when missing.

source "$(dirname "${BASH_SOURCE[0]}")/service.sh"

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
    # 401 means it is up and asking for credentials.
    service_wait docker-registry "$dir/registry.pid" "$dir/registry.log" 10 \
        registry_asks_for_credentials "$port" || return 1
    export REGISTRY_ADDR="127.0.0.1:$port"
}

registry_asks_for_credentials() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/v2/")" = 401 ]
}

registry_stop() {
    service_stop "$1/registry.pid" 5
}
