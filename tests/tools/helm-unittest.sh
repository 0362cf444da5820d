#!/usr/bin/env bash
# Builds helm-unittest from the Go module proxy (once per version), installs it as a helm
# plugin in a cache-local plugins dir and prints that dir: use it as HELM_PLUGINS, e.g.
#   HELM_PLUGINS="$(tests/tools/helm-unittest.sh)" helm unittest charts/todo-app
# The upstream plugin.yaml downloads a release binary in an install hook; nothing may be
# downloaded here, so the plugin manifest is written without hooks and points at our build.
set -euo pipefail

UNITTEST_VERSION="${HELM_UNITTEST_VERSION:-v1.1.2}"
CACHE="${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}"
DEST="$CACHE/helm-unittest-$UNITTEST_VERSION"
PLUGIN_DIR="$DEST/plugins/helm-unittest"

log() { echo "helm-unittest.sh: $*" >&2; }

if [[ -x "$PLUGIN_DIR/untt" && -f "$PLUGIN_DIR/plugin.yaml" ]]; then
  echo "$DEST/plugins"
  exit 0
fi

command -v go >/dev/null || { log "go is not installed; install Go >= 1.26 and retry"; exit 1; }

MODULE="github.com/helm-unittest/helm-unittest"
MOD_DIR="$(go mod download -json "$MODULE@$UNITTEST_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[[ -n "$MOD_DIR" && -f "$MOD_DIR/go.mod" ]] || { log "could not download $MODULE@$UNITTEST_VERSION from the Go module proxy (GOPROXY=$(go env GOPROXY))"; exit 1; }

log "building $MODULE@$UNITTEST_VERSION into $DEST; takes minutes the first time"
mkdir -p "$CACHE"
TMP="$(mktemp -d "$CACHE/.helm-unittest-build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
start=$SECONDS
# Its go.mod has a replace directive, which `go install pkg@version` refuses: build inside a
# writable copy of the module instead, where the replace applies.
cp -r "$MOD_DIR" "$TMP/src" && chmod -R u+w "$TMP/src"
mkdir -p "$TMP/plugins/helm-unittest"
(cd "$TMP/src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
  -ldflags "-w -s -X $MODULE/internal/build.version=${UNITTEST_VERSION#v}" \
  -o "$TMP/plugins/helm-unittest/untt" ./cmd/helm-unittest)
cat > "$TMP/plugins/helm-unittest/plugin.yaml" <<YAML
name: "unittest"
version: "${UNITTEST_VERSION#v}"
usage: "unittest for helm charts"
description: "helm-unittest ${UNITTEST_VERSION}, built from the Go module proxy by tests/tools/helm-unittest.sh"
ignoreFlags: false
command: "\$HELM_PLUGIN_DIR/untt"
YAML
rm -rf "$DEST.new" && mkdir -p "$DEST.new" && mv "$TMP/plugins" "$DEST.new/plugins"
rm -rf "$DEST" && mv "$DEST.new" "$DEST"
log "built in $((SECONDS - start))s"
echo "$DEST/plugins"
