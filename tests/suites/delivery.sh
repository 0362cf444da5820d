#!/usr/bin/env bash
# Delivery suite (issue 6): forge load/push/pin/promote/deploy against real parts on loopback:
# Debian's dockerd, docker-registry (htpasswd auth) and containerd, each with its own data dir
# under a temp dir and stopped by pid; skopeo as the second registry client; helm from
# tests/tools/helm.sh; kubectl for deploy's preflight. Minikube cannot run on this machine: its
# detection and command lines are unit-tested on sample output and its docker-runtime route
# runs against the real dockerd (see forge/src/publish/minikube.rs).
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
for pair in dockerd:docker.io docker-registry:docker-registry htpasswd:apache2-utils containerd:containerd \
            runc:runc skopeo:skopeo cc:gcc curl:curl; do
    command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
# The fixture image's /hello is linked statically against glibc.
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need+=(libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}"
fi
command -v docker >/dev/null || { echo "delivery.sh: no docker CLI (package docker.io) on PATH" >&2; exit 1; }

HELM=$(tests/tools/helm.sh)
export HELM
if ! command -v kubectl >/dev/null; then
    echo "delivery.sh: kubectl is needed for deploy's preflight tests; install it (or the lab's tests/tools/kubernetes.sh build) and put it on PATH" >&2
    exit 1
fi

# shellcheck source=tests/lib/delivery-services.sh
source tests/lib/delivery-services.sh

WORK=$(mktemp -d /tmp/forge-delivery.XXXXXX)
cleanup() {
    delivery_services_stop "$WORK"
    rm -rf "$WORK"
}
trap cleanup EXIT

delivery_services_start "$WORK" forge "$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

# Unit tests of the delivery modules, then the integration tests against the services above
# (marked #[ignore] so a plain `cargo test` without services does not run them).
cargo test -p forge --lib -- publish:: pin:: promote:: deploy:: opslog::
cargo test -p forge --test delivery_cli --test delivery_docker --test delivery_registry --test delivery_containerd -- --include-ignored
