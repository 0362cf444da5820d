#!/usr/bin/env bash
# Build the real Trivy scanner from the Go module proxy, once per version, and print the
# absolute path of the binary on stdout (logs go to stderr).
#
#   tests/tools/trivy.sh            -> builds TRIVY_VERSION (default below) if not cached
#   FORGE_TOOLS_CACHE=/x tests/tools/trivy.sh
#
# trivy's go.mod has no `replace` directives, so `go install module/cmd/trivy@version`
# builds it directly from the proxy. The version string is stamped in the same way as
# upstream's goreleaser config, so `trivy --version` (and forge's report) names it.
set -euo pipefail

TRIVY_VERSION="${TRIVY_VERSION:-v0.74.0}"
cache="${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}/trivy-${TRIVY_VERSION}"
bin="$cache/bin/trivy"

if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { echo "trivy.sh: Go toolchain not found; install Go >= 1.26 (see go.mod of trivy ${TRIVY_VERSION})" >&2; exit 1; }

tmp="$(mktemp -d "${cache}.tmp.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$cache")"; mktemp -d "${cache}.tmp.XXXXXX"; })"
trap 'rm -rf "$tmp"' EXIT

echo "trivy.sh: building github.com/aquasecurity/trivy ${TRIVY_VERSION} (first run only; several minutes)" >&2
# GOEXPERIMENT=jsonv2 as in upstream goreleaser.yml: trivy imports encoding/json/v2.
GOBIN="$tmp/bin" CGO_ENABLED=0 GOEXPERIMENT=jsonv2 nice -n 10 go install -trimpath \
  -ldflags "-s -w -X github.com/aquasecurity/trivy/pkg/version/app.ver=${TRIVY_VERSION#v}" \
  "github.com/aquasecurity/trivy/cmd/trivy@${TRIVY_VERSION}" >&2

"$tmp/bin/trivy" --version >&2
# Publish atomically: a half-built cache dir is never seen as ready.
rm -rf "$cache"
mv "$tmp" "$cache"
trap - EXIT
echo "$bin"
