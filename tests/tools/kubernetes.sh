#!/usr/bin/env bash
# Builds the Kubernetes server binaries (and kubectl) from the Go module proxy, once per
# version, and prints the absolute path of the directory holding them.
#
# Why not `go install k8s.io/kubernetes/cmd/...@vX`: the k8s.io/kubernetes module's go.mod
# replaces every k8s.io/* library with ./staging/src/k8s.io/*, and the module zip does not
# carry staging/. The published staging modules are the same code tagged v0.<minor>.<patch>,
# so the replaces are rewritten to point at them.
#
# With --cached, prints the path only if the build is already cached (exit 1 otherwise).
# Env: K8S_VERSION (default 1.34.4; stay on 1.34.x, see tests/lab/README.md),
#      FORGE_TOOLS_CACHE (default ~/.cache/forge-tools). Logs go to stderr.
set -euo pipefail

version=${K8S_VERSION:-1.34.4}
cache=${FORGE_TOOLS_CACHE:-$HOME/.cache/forge-tools}
dest=$cache/kubernetes-v$version
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

log() { echo "kubernetes.sh: $*" >&2; }

complete() {
  local b
  for b in "${binaries[@]}"; do [[ -x $dest/bin/$b ]] || return 1; done
}

if complete; then
  echo "$dest/bin"
  exit 0
fi
[[ ${1:-} != --cached ]] || exit 1   # --cached: report a finished build, never start one

command -v go >/dev/null || { log "go is not installed; install Go >= 1.24 (https://go.dev/dl) and retry"; exit 1; }
[[ $version =~ ^1\.([0-9]+)\.([0-9]+)$ ]] || { log "K8S_VERSION '$version' is not of the form 1.MINOR.PATCH"; exit 1; }
minor=${BASH_REMATCH[1]} patch=${BASH_REMATCH[2]}
staging_version=v0.$minor.$patch

# The checksum database is not reachable from every machine this runs on; the module's own
# go.sum still pins every third-party dependency, only the staging modules are taken from
# the proxy unverified.
export GOSUMDB=${GOSUMDB:-off} GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0

work=$(mktemp -d "${TMPDIR:-/tmp}/kubernetes-build.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

log "fetching k8s.io/kubernetes@v$version from the module proxy"
src=$(cd "$work" && go mod download -json "k8s.io/kubernetes@v$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d $src ]] || { log "go mod download k8s.io/kubernetes@v$version gave no directory"; exit 1; }
cp -r "$src" "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
rm -f go.work go.work.sum

edits=()
while read -r module; do
  edits+=("-replace=$module=$module@$staging_version")
done < <(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' go.mod)
[[ ${#edits[@]} -gt 0 ]] || { log "no staging replaces found in go.mod; the module layout changed"; exit 1; }
go mod edit "${edits[@]}"
log "rewrote ${#edits[@]} staging replaces to $staging_version"

# The same stamps hack/lib/version.sh sets; without them every binary reports v0.0.0 and
# Helm's kubeVersion constraints fail.
build_date=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=v$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

mkdir -p "$work/bin"
start=$SECONDS
log "building ${binaries[*]} (cold: tens of minutes on 2 cores)"
nice -n 10 go build -trimpath -ldflags "$ldflags" -o "$work/bin/" \
  $(printf './cmd/%s ' "${binaries[@]}") >&2
log "built in $((SECONDS - start))s"

[[ $("$work/bin/kubectl" version --client 2>/dev/null) == *"v$version"* ]] \
  || { log "built kubectl does not report v$version; version ldflags did not apply"; exit 1; }

mkdir -p "$cache"
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
mv "$work/bin" "$dest.tmp/bin"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "$dest/bin"
