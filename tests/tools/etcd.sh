#!/usr/bin/env bash
# Builds etcd from the Go module proxy, once per version, and prints the absolute path of
# the binary.
#
# Why a wrapper module: etcd's own main package lives in go.etcd.io/etcd/v3, whose go.mod
# replaces its sibling modules with relative paths, so `go install` refuses it. The server
# entry point go.etcd.io/etcd/server/v3/etcdmain is importable, so a two-line main that
# requires it builds the same server.
#
# Env: ETCD_VERSION (default 3.6.16), FORGE_TOOLS_CACHE (default ~/.cache/forge-tools).
set -euo pipefail

version=${ETCD_VERSION:-3.6.16}
cache=${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}
dest=$cache/etcd-v$version

log() { echo "etcd.sh: $*" >&2; }

if [[ -x $dest/etcd ]]; then
  echo "$dest/etcd"
  exit 0
fi

command -v go >/dev/null || { log "go is not installed; install Go >= 1.24 (https://go.dev/dl) and retry"; exit 1; }

# See kubernetes.sh: the checksum database may be unreachable; the proxy is the source.
export GOSUMDB=${GOSUMDB:-off} GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

work=$(mktemp -d "${TMPDIR:-/tmp}/etcd-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

cat > go.mod <<EOF
module forge.local/lab/etcd

go 1.24
EOF
cat > main.go <<'EOF'
// Command etcd runs the etcd server exactly as the upstream etcd binary does.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF

log "resolving go.etcd.io/etcd/server/v3@v$version"
go get "go.etcd.io/etcd/server/v3@v$version" >&2
go mod tidy >&2

start=$SECONDS
nice -n 10 go build -trimpath \
  -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=v$version" \
  -o "$work/etcd" . >&2
log "built in $((SECONDS - start))s"

[[ $("$work/etcd" --version) == *"etcd Version: $version"* ]] \
  || { log "built etcd does not report version $version"; exit 1; }

mkdir -p "$dest.tmp"
mv "$work/etcd" "$dest.tmp/etcd"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest/etcd"
