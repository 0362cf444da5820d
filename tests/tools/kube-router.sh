#!/usr/bin/env bash
# Builds kube-router from the Go module proxy, once per version, and prints the binary's path.
# The lab runs only its NetworkPolicy firewall (iptables + ipset). Why not
# sigs.k8s.io/kube-network-policies: it queues packets with the nftables `queue` statement,
# and kernels built without CONFIG_NFT_QUEUE (like this project's CI machines) reject it.
# Env: KUBE_ROUTER_VERSION (default 2.1.0), FORGE_TOOLS_CACHE.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/go-install.sh"
version=${KUBE_ROUTER_VERSION:-2.1.0}
go_install_tool kube-router "$version" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router \
  "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=v$version"
