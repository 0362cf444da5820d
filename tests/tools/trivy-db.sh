#!/usr/bin/env bash
# Build tests/tools/trivy-db (a tiny offline Trivy DB builder on trivy-db's own packages)
# once per source revision and print the absolute path of the binary on stdout.
#
#   bin=$(tests/tools/trivy-db.sh)
#   "$bin" --advisories advisories.json --cache-dir DIR [--updated-at 2026-11-29T00:00:00Z]
set -euo pipefail

src="$(cd "$(dirname "${BASH_SOURCE[0]}")/trivy-db" && pwd)"
key="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
cache="${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}/trivy-db-fixture-${key}"
bin="$cache/trivy-db-fixture"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "trivy-db.sh: Go toolchain not found; install Go >= 1.24" >&2; exit 1; }

mkdir -p "$(dirname "$cache")"
tmp="$(mktemp -d "${cache}.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "trivy-db.sh: building the trivy-db fixture tool (first run only)" >&2
(cd "$src" && CGO_ENABLED=0 nice -n 10 go build -trimpath -o "$tmp/trivy-db-fixture" .) >&2
rm -rf "$cache"
mv "$tmp" "$cache"
trap - EXIT
echo "$bin"
