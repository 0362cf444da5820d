#!/usr/bin/env bash
# Delivery benchmark: time and bytes moved for a first load and a no-change load into real
# dockerd, containerd and registry (loopback, own data dirs, stopped by pid). Uses the
# project's built images when out/backend exists (after `make build`), else a 64 MiB fixture.
# Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

# shellcheck source=tests/lib/delivery-services.sh
source tests/lib/delivery-services.sh

WORK=$(mktemp -d /tmp/forge-delivery-bench.XXXXXX)
cleanup() {
    delivery_services_stop "$WORK"
    rm -rf "$WORK"
}
trap cleanup EXIT

delivery_services_start "$WORK" bench bench-loopback-only

if [ -d out/backend ]; then
    export FORGE_BENCH_OUT=$PWD/out
    FORGE_BENCH_IMAGES=$(for n in backend frontend postgres; do [ -d "out/$n" ] && echo "$n"; done | tr '\n' ' ')
    export FORGE_BENCH_IMAGES
fi
cargo test -q -p forge --test delivery_bench -- --ignored --nocapture 2>&1 | grep -v -E '^(running|test |$)|test result'
