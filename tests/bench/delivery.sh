#!/usr/bin/env bash
# Delivery benchmark: time and bytes moved for a first load and a no-change load into real
# dockerd, containerd and registry (loopback, own data dirs, stopped by pid). Uses the
# project's built images when out/backend exists (after `make build`), else a 64 MiB fixture.
# Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/lib/dockerd.sh
source tests/lib/dockerd.sh
# shellcheck source=tests/lib/registry.sh
source tests/lib/registry.sh
# shellcheck source=tests/lib/containerd.sh
source tests/lib/containerd.sh

WORK=$(mktemp -d /tmp/forge-delivery-bench.XXXXXX)
cleanup() {
    containerd_stop "$WORK/containerd" || true
    registry_stop "$WORK/registry" || true
    dockerd_stop "$WORK/docker" || true
    rm -rf "$WORK"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
dockerd_start "$WORK/docker" >&2
export FORGE_TEST_REGISTRY_USER=bench FORGE_TEST_REGISTRY_PASSWORD=bench-loopback-only
registry_start "$WORK/registry" "$port" "$FORGE_TEST_REGISTRY_USER" "$FORGE_TEST_REGISTRY_PASSWORD" >&2
export FORGE_TEST_REGISTRY=$REGISTRY_ADDR
containerd_start "$WORK/containerd" >&2
export CONTAINERD_ADDRESS

if [ -d out/backend ]; then
    export FORGE_BENCH_OUT=$PWD/out
    FORGE_BENCH_IMAGES=$(for n in backend frontend postgres; do [ -d "out/$n" ] && echo "$n"; done | tr '\n' ' ')
    export FORGE_BENCH_IMAGES
fi
cargo test -q -p forge --test delivery_bench -- --ignored --nocapture 2>&1 | grep -v -E '^(running|test |$)|test result'
