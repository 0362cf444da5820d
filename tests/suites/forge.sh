#!/usr/bin/env bash
# forge suite: the crate's cargo tests, then real-component checks of `forge lock && forge build`
# against the Debian mirror, validated by skopeo, umoci and a private Docker daemon.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/dockerd.sh
source "$ROOT/tests/lib/dockerd.sh"

need=()
command -v skopeo >/dev/null || need+=(skopeo)
command -v umoci >/dev/null || need+=(umoci)
command -v dockerd >/dev/null || need+=(docker.io)
command -v git >/dev/null || need+=(git)
if [ ${#need[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}"
fi
DOCKER=/usr/bin/docker   # Debian's client, matching its daemon

WORK=$(mktemp -d /tmp/forge-suite.XXXXXX)
cleanup() {
  dockerd_stop "$WORK/dockerd" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "cargo test -p forge"
(cd "$ROOT" && cargo test -p forge --release 2>&1)

step "build forge"
(cd "$ROOT" && cargo build --release -p forge)
FORGE="$ROOT/target/release/forge"

# Two clean clones of the committed tree at different paths; the suite's own caches.
git clone -q "$ROOT" "$WORK/a/clone-one"
git clone -q "$ROOT" "$WORK/b/second/clone-two"
export FORGE_CACHE="$WORK/cache"
A="$WORK/a/clone-one"
B="$WORK/b/second/clone-two"

step "forge lock (real Debian mirror)"
(cd "$A" && "$FORGE" lock)
cp "$A/recipes/forge.lock" "$B/recipes/forge.lock"

step "forge build base test-busybox"
(cd "$A" && "$FORGE" build base test-busybox) | tee "$WORK/digests-a"
[ -d "$A/out/base/blobs/sha256" ] && [ -f "$A/out/base.tar" ] || fail "out/base or out/base.tar missing"

step "skopeo and umoci accept the OCI layout"
# The image is named by its ref.name: the layout also holds its SBOM (an OCI 1.1 referrer).
(cd "$A" && skopeo inspect oci:out/base:base) > "$WORK/inspect.json"
grep -q '"User": "65532:65532"' "$WORK/inspect.json" || grep -q '"65532:65532"' "$WORK/inspect.json" || true
skopeo inspect --config "oci:$A/out/base:base" | grep -q '"User": "65532:65532"' || fail "base config user is not 65532:65532"
skopeo inspect "docker-archive:$A/out/base.tar" >/dev/null
(cd "$WORK" && umoci unpack --image "$A/out/base:base" base-bundle >/dev/null)
(cd "$WORK" && umoci unpack --image "$A/out/test-busybox:test-busybox" bb-bundle >/dev/null)
R="$WORK/base-bundle/rootfs"
for f in etc/passwd etc/group etc/nsswitch.conf etc/os-release etc/ssl/certs/ca-certificates.crt \
         usr/share/zoneinfo/UTC var/lib/dpkg/status.d/libc6 var/lib/dpkg/status.d/libc6.md5sums; do
  [ -e "$R/$f" ] || fail "base lacks /$f"
done
grep -q '^nonroot:x:65532:65532:' "$R/etc/passwd" || fail "no nonroot user"
[ "$(stat -c '%u %a' "$R/home/nonroot")" = "65532 700" ] || fail "/home/nonroot not owned by 65532 / 0700"
[ "$(stat -c '%a' "$R/tmp")" = "1777" ] || fail "/tmp is not 1777"
[ "$(grep -c 'BEGIN CERTIFICATE' "$R/etc/ssl/certs/ca-certificates.crt")" -gt 100 ] || fail "CA bundle too small"
grep -q '^Source: glibc' "$R/var/lib/dpkg/status.d/libc6" || fail "status.d/libc6 lacks Source:"
[ -z "$(find "$R/usr/share/man" "$R/usr/share/info" -type f 2>/dev/null | head -1)" ] || fail "man/info pages left in base"
shells=$(find "$R" \( -name sh -o -name bash -o -name dash -o -name busybox -o -name ash -o -name zsh \) -printf '%P\n')
[ -z "$shells" ] || fail "base contains a shell: $shells"
BB="$WORK/bb-bundle/rootfs"
[ ! -e "$BB/bin/sh" ] && [ ! -e "$BB/usr/bin/sh" ] || fail "test-busybox has a /bin/sh"
[ -x "$BB/usr/bin/busybox" ] || fail "test-busybox lacks /usr/bin/busybox"
echo "layout checks passed"

step "real dockerd: load and run"
dockerd_start "$WORK/dockerd"
$DOCKER load -i "$A/out/base.tar"
$DOCKER load -i "$A/out/test-busybox.tar"
ref=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reference"])' "$A/out/test-busybox/forge-report.json")
uid=$($DOCKER run --rm --network none "$ref")
[ "$uid" = "65532" ] || fail "test-busybox reported uid '$uid', want 65532"
echo "container uid: $uid"
$DOCKER run --rm --network none "$ref" sh -c 'test "$(id -u):$(id -g)" = 65532:65532 && test -w /tmp && test ! -e /bin/sh' \
  || fail "busybox's own sh checks failed"
base_ref=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reference"])' "$A/out/base/forge-report.json")
if $DOCKER run --rm --network none --entrypoint /bin/sh "$base_ref" -c true 2>/dev/null; then
  fail "base ran /bin/sh"
fi
echo "base has no shell: docker run --entrypoint /bin/sh fails as it should"
dockerd_stop "$WORK/dockerd"

step "reproducible: other path, umask, TZ, TMPDIR, and an empty cache"
mkdir -p "$WORK/tmp2"
(cd "$B" && umask 0002 && TZ=Pacific/Chatham TMPDIR="$WORK/tmp2" LC_ALL=C.UTF-8 \
  FORGE_CACHE="$WORK/empty-cache" "$FORGE" build base test-busybox) | tee "$WORK/digests-b"
diff "$WORK/digests-a" "$WORK/digests-b" || fail "digests differ between builds"
cmp "$A/out/base.tar" "$B/out/base.tar" || fail "docker-archives differ"
echo "identical digests: $(tr '\n' ' ' < "$WORK/digests-a")"

step "no-change rebuild is fast and leaves out/ alone"
before=$(stat -c '%Y %i' "$A/out/base/index.json")
start=$(date +%s%N)
(cd "$A" && "$FORGE" build base >/dev/null)
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(stat -c '%Y %i' "$A/out/base/index.json")" = "$before" ] || fail "no-change rebuild rewrote out/base"
echo "no-change rebuild: ${ms} ms"

step "a killed build leaves the previous out/ intact"
sum() { (cd "$A/out" && find base base.tar -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum); }
good=$(sum)
for delay in 0.2 0.5 1.0 1.5; do
  # A new epoch forces every layer to be rebuilt, so the build is still running when killed.
  (cd "$A" && SOURCE_DATE_EPOCH=$((1700000000 + ${delay/./})) exec "$FORGE" build base >/dev/null 2>&1) &
  pid=$!
  sleep "$delay"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  now=$(sum)
  if [ "$now" != "$good" ]; then
    # Only acceptable if the build finished before the kill: then out/ is the new, complete image.
    skopeo inspect "oci:$A/out/base:base" >/dev/null || fail "out/base is broken after a kill at ${delay}s"
    good=$now
  fi
done
skopeo inspect "oci:$A/out/base:base" >/dev/null
echo "out/ intact after kills"

echo
echo "forge suite: all checks passed"
