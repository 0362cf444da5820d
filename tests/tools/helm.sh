#!/usr/bin/env bash
# Builds helm v3 from the Go module proxy (once per version) and prints the binary's path.
# There is no release download here, so helm is compiled from helm.sh/helm/v3 with the same
# version ldflags as helm's own Makefile: without them `helm version` says v3.x-dev and
# `helm template` assumes Kubernetes v1.20, which breaks the chart's kubeVersion check.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
CACHE="${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}"
DEST="$CACHE/helm-$HELM_VERSION"
BIN="$DEST/helm"

log() { echo "helm.sh: $*" >&2; }

if [[ -x "$BIN" && "$("$BIN" version --template '{{.Version}}' 2>/dev/null)" == "$HELM_VERSION" ]]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { log "go is not installed; install Go >= 1.26 (helm $HELM_VERSION needs it) and retry"; exit 1; }

MODULE="helm.sh/helm/v3"
# Kubernetes version helm assumes offline (`helm template`, `helm lint`): helm's Makefile
# derives it from the client-go it was built with (v0.X.Y -> 1.X).
MOD_DIR="$(go mod download -json "$MODULE@$HELM_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
[[ -n "$MOD_DIR" && -f "$MOD_DIR/go.mod" ]] || { log "could not download $MODULE@$HELM_VERSION from the Go module proxy (GOPROXY=$(go env GOPROXY))"; exit 1; }
CLIENT_GO="$(sed -n 's/^\tk8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$MOD_DIR/go.mod")"
[[ -n "$CLIENT_GO" ]] || { log "cannot find k8s.io/client-go in $MOD_DIR/go.mod"; exit 1; }

LDFLAGS="-w -s"
LDFLAGS+=" -X $MODULE/internal/version.version=$HELM_VERSION"
LDFLAGS+=" -X $MODULE/internal/version.gitTreeState=clean"
for pkg in pkg/lint/rules pkg/chartutil; do
  LDFLAGS+=" -X $MODULE/$pkg.k8sVersionMajor=1 -X $MODULE/$pkg.k8sVersionMinor=$CLIENT_GO"
done

log "building $MODULE@$HELM_VERSION (Kubernetes default 1.$CLIENT_GO) into $DEST; takes minutes the first time"
mkdir -p "$CACHE"
TMP="$(mktemp -d "$CACHE/.helm-build.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
start=$SECONDS
CGO_ENABLED=0 GOBIN="$TMP" GOFLAGS=-mod=mod go install -trimpath -ldflags "$LDFLAGS" "$MODULE/cmd/helm@$HELM_VERSION"
"$TMP/helm" version --short >&2
# Atomic publish: a half-built binary never appears at $BIN.
rm -rf "$DEST.new" && mkdir -p "$DEST.new" && mv "$TMP/helm" "$DEST.new/helm"
rm -rf "$DEST" && mv "$DEST.new" "$DEST"
log "built in $((SECONDS - start))s"
echo "$BIN"
