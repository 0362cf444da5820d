#!/usr/bin/env bash
# Builds CoreDNS from the Go module proxy, once per version, and prints the binary's path.
# The binary is static: recipes/lab/coredns.toml puts it into an image built by forge.
# Env: COREDNS_VERSION (default 1.12.4, the line Kubernetes 1.34 ships), FORGE_TOOLS_CACHE.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/go-install.sh"
version=${COREDNS_VERSION:-1.12.4}
go_install_tool coredns "$version" github.com/coredns/coredns \
  "-X github.com/coredns/coredns/coremain.GitCommit=v$version"
