# shellcheck shell=bash
# The three destinations forge delivers to, on loopback, for the delivery suite and benchmark
# (source this file):
#   delivery_services_start DIR USER PASSWORD
#       dockerd, docker-registry (htpasswd USER/PASSWORD, a free loopback port) and containerd,
#       each with its data under DIR; exports DOCKER_HOST, CONTAINERD_ADDRESS and the
#       FORGE_TEST_REGISTRY{,_USER,_PASSWORD} that forge's integration tests read. Logs go to
#       stderr, so a caller's stdout stays its own.
#   delivery_services_stop DIR
#       stops all three by pid; safe after a failed or partial start

_delivery_lib=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=tests/lib/dockerd.sh
source "$_delivery_lib/dockerd.sh"
# shellcheck source=tests/lib/registry.sh
source "$_delivery_lib/registry.sh"
# shellcheck source=tests/lib/containerd.sh
source "$_delivery_lib/containerd.sh"

delivery_services_start() {
    local dir=$1 port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    dockerd_start "$dir/docker" >&2
    export FORGE_TEST_REGISTRY_USER=$2 FORGE_TEST_REGISTRY_PASSWORD=$3
    registry_start "$dir/registry" "$port" "$2" "$3" >&2
    export FORGE_TEST_REGISTRY=$REGISTRY_ADDR
    containerd_start "$dir/containerd" >&2
    export CONTAINERD_ADDRESS
}

delivery_services_stop() {
    containerd_stop "$1/containerd" || true
    registry_stop "$1/registry" || true
    dockerd_stop "$1/docker" || true
}
