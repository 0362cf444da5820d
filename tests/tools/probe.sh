#!/usr/bin/env bash
# Builds the lab's probe helper (tests/e2e/probe, standard library only) statically, once
# per source digest, and prints the binary's path. recipes/lab/probe.toml images it.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../e2e/probe" && pwd)
cache=${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}
digest=$(cat "$src/go.mod" "$src/main.go" | sha256sum | cut -c1-16)
dest=$cache/probe-$digest
if [[ -x $dest/probe ]]; then
  echo "$dest/probe"
  exit 0
fi
command -v go >/dev/null || { echo "probe.sh: go is not installed; install Go >= 1.24" >&2; exit 1; }
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
(cd "$src" && GOWORK=off CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dest.tmp/probe" .)
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest/probe"
