#!/usr/bin/env bash
# Supply-chain suite (issue 5): CycloneDX SBOMs, the Trivy gate with the REAL trivy binary and a
# vulnerability DB built here with trivy-db's own packages, and the image policies.
#
#   tests/suites/supply-chain.sh
#   SUPPLY_IMAGES="base backend postgres" tests/suites/supply-chain.sh
#
# Images: SUPPLY_IMAGES (default: base backend frontend postgres) are built once in each of two
# clean clones at different paths with empty forge caches; their SBOMs must validate, be
# byte-identical between the clones, list every package Trivy detects, and `forge verify` must
# pass. The gate runs on them with a DB holding advisories for packages really in them. The test
# recipes in recipes/test/ must each fail `forge verify` naming their cause.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
started=$SECONDS

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $*"; }
# expect_fail DESCRIPTION PATTERN -- CMD...: CMD must exit non-zero and print PATTERN.
expect_fail() {
  local what="$1" pattern="$2"; shift 3
  local out
  if out="$("$@" 2>&1)"; then
    not_ok "$what (succeeded; expected failure)"; echo "$out" | tail -20
  elif grep -qE -- "$pattern" <<<"$out"; then
    ok "$what"
  else
    not_ok "$what (no /$pattern/ in output)"; echo "$out" | tail -20
  fi
}
expect_ok() {
  local what="$1"; shift 2
  local out
  if out="$("$@" 2>&1)"; then ok "$what"; else not_ok "$what"; echo "$out" | tail -30; fi
}
has() { local x="$1"; shift; [[ " $* " == *" $x "* ]]; }

images=(${SUPPLY_IMAGES:-base backend frontend postgres})
test_images=(test-root test-shell test-setuid test-key test-port)
echo "# images: ${images[*]}; policy test images: ${test_images[*]}"

need=()
command -v jq >/dev/null || need+=(jq)
command -v python3 >/dev/null || need+=(python3)
if has postgres "${images[@]}"; then command -v cc >/dev/null || need+=(gcc libc6-dev); fi
if ((${#need[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" >&2
fi
if has backend "${images[@]}"; then command -v uv >/dev/null || python3 -m pip install --quiet 'uv>=0.9'; fi
if has frontend "${images[@]}"; then command -v npm >/dev/null || { echo "node and npm (Node.js >= 20) are required to build the frontend" >&2; exit 1; }; fi

echo "# unit tests of the supply-chain modules"
cargo test --quiet -p forge --lib -- image_fs sbom scan policy recipe::tests::registry_base

echo "# tools: real trivy + trivy-db fixture builder (cached by version)"
trivy="$(tests/tools/trivy.sh)"
trivy_db="$(tests/tools/trivy-db.sh)"
"$trivy" --version | head -1

cargo build --quiet --release -p forge
forge="$root/target/release/forge"

# A PATH without trivy, for the fail-closed checks.
no_trivy_path="$(dirname "$(command -v cargo)"):/usr/local/bin:/usr/bin:/bin"
if PATH="$no_trivy_path" command -v trivy >/dev/null; then
  echo "a trivy is installed system-wide ($(PATH="$no_trivy_path" command -v trivy)); the no-trivy checks need it off PATH" >&2
  exit 1
fi

# Two clean clones of the committed tree at different paths, each with an empty forge cache:
# every image is built once in each (A is where the rest of the suite works).
git clone -q "$root" "$work/a/taskflow"
git clone -q "$root" "$work/b/elsewhere/taskflow-rebuild"
build_all() { # DIR CACHE LOG
  (cd "$1" && FORGE_CACHE="$2" "$forge" build "${images[@]}" --scan=skip) >"$3" 2>&1
}

echo "# 1. build (once per clone), SBOM, reproducibility, policy (scan skipped here; the gate is tested below)"
t0=$SECONDS
if build_all "$work/a/taskflow" "$work/cache-a" "$work/build-a.log"; then ok "forge build ${images[*]} in clone A ($((SECONDS - t0)) s)"; else not_ok "forge build in clone A"; tail -40 "$work/build-a.log"; fi
t0=$SECONDS
if build_all "$work/b/elsewhere/taskflow-rebuild" "$work/cache-b" "$work/build-b.log"; then ok "forge build ${images[*]} in clone B ($((SECONDS - t0)) s)"; else not_ok "forge build in clone B"; tail -40 "$work/build-b.log"; fi
cd "$work/a/taskflow"

report_field() { jq -r "$2" "out/$1/forge-report.json"; }
digest_of() { report_field "$1" .digest; }

for img in "${images[@]}"; do
  expect_ok "sbom/$img.cdx.json validates" -- "$forge" sbom "$img" --validate
  [[ "$(report_field "$img" .scan.verdict)" == unscanned ]] && ok "$img: --scan=skip records unscanned" || not_ok "$img: scan verdict $(report_field "$img" .scan.verdict)"
  [[ "$(report_field "$img" .policy.verdict)" == passed ]] && ok "$img: forge verify passed during the build" || not_ok "$img: policy $(report_field "$img" .policy)"
  expect_ok "forge verify $img" -- "$forge" verify "$img"
  # The SBOM names the image digest and is attached as an OCI referrer with subject = image.
  digest="$(digest_of "$img")"
  jq -e --arg d "$digest" '.metadata.component.version == $d' "sbom/$img.cdx.json" >/dev/null \
    && ok "$img: SBOM metadata names $digest" || not_ok "$img: SBOM metadata digest"
  jq -e --arg d "$digest" '.manifests[0].digest == $d and ([.manifests[] | select(.artifactType == "application/vnd.cyclonedx+json")] | length == 1)' "out/$img/index.json" >/dev/null \
    && ok "$img: index.json lists the image first and one SBOM referrer" || not_ok "$img: index.json $(cat "out/$img/index.json")"
  other="$work/b/elsewhere/taskflow-rebuild"
  if [[ "$(jq -r .digest "$other/out/$img/forge-report.json" 2>/dev/null)" == "$digest" ]] && cmp -s "sbom/$img.cdx.json" "$other/sbom/$img.cdx.json"; then
    ok "$img: image digest and SBOM byte-identical in the clean rebuild elsewhere"
  else
    not_ok "$img: clean rebuild elsewhere differs (digest $(jq -r .digest "$other/out/$img/forge-report.json" 2>/dev/null) vs $digest)"
    diff <(jq . "sbom/$img.cdx.json") <(jq . "$other/sbom/$img.cdx.json" 2>/dev/null) | head -20 || true
  fi
done
rm -rf "$work/b" "$work/cache-b"
# Everything else in clone A uses its forge cache.
export FORGE_CACHE="$work/cache-a"

echo "# 2. cross-check: every package trivy detects is in forge's SBOM"
# Any (even empty) DB lets trivy run offline; package detection does not need advisories.
echo '{"advisories":[]}' >"$work/empty.json"
"$trivy_db" --advisories "$work/empty.json" --cache-dir "$work/trivy-empty" 2>/dev/null
# Packages as "type/name@version" (purl without qualifiers, percent-decoded).
purls() { python3 -c '
import json, sys, urllib.parse
doc = json.load(open(sys.argv[1]))
def walk(cs):
    for c in cs or []:
        yield c
        yield from walk(c.get("components"))
for c in walk(doc.get("components")):
    p = c.get("purl")
    if p and not p.startswith("pkg:oci/"):
        print(urllib.parse.unquote(p.split("?")[0]))
' "$1" | sort -u; }
for img in "${images[@]}"; do
  "$trivy" image --quiet --input "out/$img@$(digest_of "$img")" --format cyclonedx --offline-scan --skip-db-update \
    --skip-java-db-update --cache-dir "$work/trivy-empty" --output "$work/$img.trivy.cdx.json"
  missing="$(comm -23 <(purls "$work/$img.trivy.cdx.json") <(purls "sbom/$img.cdx.json"))"
  found="$(purls "$work/$img.trivy.cdx.json")"
  summary="$(cut -d/ -f1 <<<"$found" | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')"
  if [[ -z "$missing" && -n "$found" ]]; then ok "$img: all packages trivy detects (${summary%, }) are in the SBOM"; else not_ok "$img: SBOM omits: $missing (trivy found ${summary%, })"; fi
done
# Trivy lists no package for a Node.js binary (its executable analyzer only hashes unpackaged
# binaries); forge's SBOM lists the locked runtime, which must be what the binary says it is.
image_files() { # IMG DIR PATH...: copies each PATH from out/IMG's layers (the last layer holding
  # it wins) to DIR/<its file name>, reading every layer once; fails naming any it lacks
  python3 - "out/$1" "${@:2}" <<'PY'
import json, os, sys, tarfile
layout, dest, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
blob = lambda d: os.path.join(layout, "blobs", *d.split(":"))
index = json.load(open(os.path.join(layout, "index.json")))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
found = {}
for layer in manifest["layers"]:
    with tarfile.open(blob(layer["digest"]), "r:gz") as t:
        for m in t:
            if m.name.lstrip("./") in paths and m.isfile():
                found[m.name.lstrip("./")] = t.extractfile(m).read()
os.makedirs(dest, exist_ok=True)
for path, data in found.items():
    out = os.path.join(dest, os.path.basename(path))
    open(out, "wb").write(data)
    os.chmod(out, 0o755)
missing = [p for p in paths if p not in found]
if missing:
    sys.exit(f"{layout} has no file {', '.join(missing)}")
PY
}
for img in "${images[@]}"; do
  grep -q '^\[node\]' "recipes/$img.toml" || continue
  node_version="$(sed -n '/^\[node\]/,/^\[/s/^version = "\(.*\)"/\1/p' "recipes/$img.toml")"
  integrity="$(python3 -c 'import sys, tomllib; print([n["integrity"] for n in tomllib.load(open("recipes/forge.lock", "rb"))["node"] if n["version"] == sys.argv[1]][0])' "$node_version")"
  sha512="$(python3 -c 'import base64, sys; print(base64.b64decode(sys.argv[1].split("-", 1)[1]).hex())' "$integrity")"
  jq -e --arg v "$node_version" --arg h "$sha512" '[.components[] | select(.purl == "pkg:generic/node@\($v)" and .name == "node" and .version == $v
      and (.cpe | startswith("cpe:2.3:a:nodejs:node.js:\($v):")) and any(.hashes[]; .alg == "SHA-512" and .content == $h))] | length == 1' "sbom/$img.cdx.json" >/dev/null \
    && ok "$img: SBOM lists the Node.js runtime $node_version (pkg:generic/node, CPE, the lock's SHA-512)" || not_ok "$img: Node.js runtime component missing or wrong"
  files="$work/node-files-$img"
  image_files "$img" "$files" usr/local/bin/node usr/share/doc/node/LICENSE || true
  node_says="$("$files/node" --version 2>&1)"
  [[ "$node_says" == "v$node_version" ]] && ok "$img: /usr/local/bin/node reports v$node_version, as the SBOM says" || not_ok "$img: node binary reports $node_says, SBOM $node_version"
  # Node's license covers the binary and what it bundles (V8, OpenSSL, ICU...): it ships with it.
  if head -1 "$files/LICENSE" 2>/dev/null | grep -q '^Node.js is licensed for use as follows:'; then
    ok "$img: Node.js's LICENSE ships in the image (usr/share/doc/node/LICENSE)"
  else
    not_ok "$img: no Node.js LICENSE at usr/share/doc/node/LICENSE"
  fi
  rm -rf "$files"
done

echo "# 3. the Trivy gate with a constructed DB of advisories for packages really in the images"
# Language packages installed by the apps (under /app), not dpkg's copies: Trivy leaves out
# language packages whose files dpkg owns. The first image of SUPPLY_IMAGES with one provides
# the PyPI (backend) and the npm (frontend) advisory; test-vuln stands in for an app image not
# in the list.
app_pkg() { # IMG PURL-PREFIX -> "name version" or nothing
  jq -r --arg t "$2" '[.components[] | select((.purl // "" | startswith($t)) and any(.properties[]?; .name == "aquasecurity:trivy:FilePath" and (.value | startswith("/app/"))))] | sort_by(.name) | .[0] // empty | "\(.name) \(.version)"' "sbom/$1.cdx.json"
}
lang_image() { # PURL-PREFIX -> the image whose app-installed package gets the advisory
  local img
  for img in "${images[@]}"; do [[ -n "$(app_pkg "$img" "$1")" ]] && { echo "$img"; return; }; done
  echo test-vuln
}
if [[ "$(lang_image pkg:pypi/)" == test-vuln || "$(lang_image pkg:npm/)" == test-vuln ]]; then
  expect_ok "forge build test-vuln (stands in for an app image with Python/npm packages)" -- "$forge" build test-vuln --scan=skip
fi
py_img="$(lang_image pkg:pypi/)"
npm_img="$(lang_image pkg:npm/)"
read -r py_name py_ver < <(app_pkg "$py_img" pkg:pypi/)
read -r npm_name npm_ver < <(app_pkg "$npm_img" pkg:npm/)
# The gate's own checks run on the image with the PyPI advisory (backend when listed).
vuln_img="${SUPPLY_VULN_IMAGE:-$py_img}"
sbom="sbom/$vuln_img.cdx.json"
# Two Debian source packages of the image that each build one of its binary packages (Trivy
# names the binary package in a finding, and an exception names what Trivy names).
read -r high_src high_ver crit_src crit_pkg < <(jq -r '[.components[] | select(.purl // "" | startswith("pkg:deb/"))
    | {n: .name, s: (.properties[] | select(.name=="aquasecurity:trivy:SrcName") | .value), v: (.properties[] | select(.name=="aquasecurity:trivy:SrcVersion") | .value)}]
    | group_by(.s) | map(select(length == 1) | .[0]) | "\(.[0].s) \(.[0].v) \(.[1].s) \(.[1].n)"' "$sbom")
echo "# advisories: HIGH fixable in $high_src $high_ver, CRITICAL unfixed in $crit_src ($crit_pkg), PyPI $py_name $py_ver ($py_img), npm $npm_name $npm_ver ($npm_img); gate image $vuln_img"
release="$(jq -r '.components[] | select(.type=="operating-system") | .version' "$sbom" | cut -d. -f1)"
advisories() { # $1 = include the fixable HIGH (yes/no)
  python3 - "$@" <<EOF
import json, sys
adv = []
if sys.argv[1] == "yes":
    adv.append({"id": "CVE-2099-1001", "ecosystem": "debian", "release": "$release", "package": "$high_src", "severity": "HIGH",
                "title": "forge test: fixable high", "fixed_version": "$high_ver+forgefix1"})
adv += [
    {"id": "CVE-2099-1002", "ecosystem": "debian", "release": "$release", "package": "$crit_src", "severity": "CRITICAL",
     "title": "forge test: unfixed critical", "status": "affected"},
    {"id": "GHSA-f0rg-0000-0001", "ecosystem": "pypi", "package": "$py_name", "severity": "MEDIUM",
     "title": "forge test: pypi advisory", "vulnerable_versions": ["<=$py_ver"], "patched_versions": []},
    {"id": "GHSA-f0rg-0000-0002", "ecosystem": "npm", "package": "$npm_name", "severity": "LOW",
     "title": "forge test: npm advisory", "vulnerable_versions": ["<=$npm_ver"], "patched_versions": []},
]
print(json.dumps({"advisories": adv}))
EOF
}
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
advisories yes >"$work/adv-all.json"
advisories no >"$work/adv-unfixed.json"
"$trivy_db" --advisories "$work/adv-all.json" --cache-dir "$work/db-all" --updated-at "$now" 2>/dev/null
"$trivy_db" --advisories "$work/adv-unfixed.json" --cache-dir "$work/db-unfixed" --updated-at "$now" 2>/dev/null
"$trivy_db" --advisories "$work/adv-unfixed.json" --cache-dir "$work/db-stale" --updated-at "$(date -u -d '-30 days' +%Y-%m-%dT%H:%M:%SZ)" 2>/dev/null

no_exception="$work/vuln-none.toml"
printf 'max_db_age_days = 7\nfail_on = ["CRITICAL", "HIGH"]\n' >"$no_exception"
valid_exception="$work/vuln-exception.toml"
cat "$no_exception" - >"$valid_exception" <<EOF

[[exception]]
id = "CVE-2099-1002"
package = "$crit_pkg"
justification = "forge test: not reachable in a distroless image"
expires = $(date -u -d '+30 days' +%Y-%m-%d)
EOF
expired_exception="$work/vuln-expired.toml"
sed "s/^expires = .*/expires = $(date -u -d '-1 day' +%Y-%m-%d)/" "$valid_exception" >"$expired_exception"

scan_img() { local img="$1"; shift; FORGE_TRIVY="$trivy" "$forge" scan "$img" --cache-dir "$1" --vuln-policy "$2" "${@:3}"; }
scan() { scan_img "$vuln_img" "$@"; }
expect_fail "gate fails on the fixable HIGH" "CVE-2099-1001.*fixed in" -- scan "$work/db-all" "$valid_exception"
[[ "$(report_field "$vuln_img" .scan.verdict)" == failed ]] && ok "failed verdict recorded in forge-report.json" || not_ok "verdict $(report_field "$vuln_img" .scan)"
# Every image passes with the unfixed CRITICAL excepted, and Trivy reports the PyPI and npm
# advisories on the images that really hold those packages.
for img in $(printf '%s\n' "${images[@]}" "$py_img" "$npm_img" | awk '!seen[$0]++'); do
  if json="$(scan_img "$img" "$work/db-unfixed" "$valid_exception" --format json 2>"$work/scan-$img.err")"; then
    ok "$img: gate passes with the unfixed CRITICAL excepted"
  else
    not_ok "$img: gate with the exception"; tail -20 "$work/scan-$img.err"
  fi
  for want in "$py_img GHSA-f0rg-0000-0001 PyPI $py_name" "$npm_img GHSA-f0rg-0000-0002 npm $npm_name"; do
    read -r on id kind pkg <<<"$want"
    [[ "$img" == "$on" ]] || continue
    jq -e --arg id "$id" '[.Results[].Vulnerabilities[]?.VulnerabilityID] | index($id) != null' <<<"$json" >/dev/null \
      && ok "$img: trivy reports the $kind advisory ($pkg)" || not_ok "$img: $kind advisory $id for $pkg not reported"
  done
done
expect_fail "forge build --scan=required fails on the fixable HIGH" "CVE-2099-1001" -- env FORGE_TRIVY="$trivy" "$forge" build "$vuln_img" --scan=required --cache-dir "$work/db-all" --vuln-policy "$valid_exception"
expect_fail "forge build --scan=auto fails too (a failed scan fails in every mode)" "CVE-2099-1001" -- env FORGE_TRIVY="$trivy" "$forge" build "$vuln_img" --cache-dir "$work/db-all" --vuln-policy "$valid_exception"
expect_fail "unfixed CRITICAL without an exception fails" "CVE-2099-1002.*no fix available" -- scan "$work/db-unfixed" "$no_exception"
expect_ok "unfixed CRITICAL with a justified exception passes" -- scan "$work/db-unfixed" "$valid_exception"
[[ "$(report_field "$vuln_img" .scan.verdict)" == passed ]] && ok "passed verdict, scanner $(report_field "$vuln_img" .scan.scanner), DB $(report_field "$vuln_img" .scan.db_updated_at)" || not_ok "verdict $(report_field "$vuln_img" .scan)"
jq -e '.runs[0].results | length >= 2' "out/$vuln_img/scan.sarif" >/dev/null && ok "SARIF written" || not_ok "SARIF missing"
expect_fail "expired exception fails" "expired on" -- scan "$work/db-unfixed" "$expired_exception"
expect_fail "DB older than max_db_age_days fails closed" "older than the 7-day maximum" -- scan "$work/db-stale" "$valid_exception"
mkdir -p "$work/db-broken/db"; cp "$work/db-unfixed/db/metadata.json" "$work/db-broken/db/"; head -c 4096 /dev/urandom >"$work/db-broken/db/trivy.db"
expect_fail "a trivy crash fails closed" "trivy failed" -- scan "$work/db-broken" "$valid_exception"
sed 's/^expires = .*/expires = "next spring"/' "$valid_exception" >"$work/vuln-bad-date.toml"
expect_fail "an exception with a bad date names file and line" "vuln-bad-date.toml:[0-9]+:" -- scan "$work/db-unfixed" "$work/vuln-bad-date.toml"
printf 'owner = "me"\n' | cat "$valid_exception" - >"$work/vuln-unknown.toml"
expect_fail "an exception with an unknown field names file, line and field" "vuln-unknown.toml:[0-9]+:.*owner" -- scan "$work/db-unfixed" "$work/vuln-unknown.toml"

echo "# 4. without trivy on PATH"
expect_fail "forge scan without trivy fails closed with instructions" "trivy not found.*tests/tools/trivy.sh" -- env PATH="$no_trivy_path" "$forge" scan base
expect_fail "forge build --scan=required without trivy fails closed" "trivy not found" -- env PATH="$no_trivy_path" "$forge" build base --scan=required
out="$(env PATH="$no_trivy_path" "$forge" build base 2>&1)" && grep -q "NOT SCANNED" <<<"$out" \
  && [[ "$(report_field base .scan.verdict)" == unscanned ]] && ok "forge build (auto) records unscanned with a warning" || { not_ok "auto build without trivy"; echo "$out" | tail; }

echo "# 5. image policies on test images (their builds fail on the policy, after writing out/)"
for t in test-root test-shell test-setuid test-key test-port; do
  expect_fail "forge build $t fails on its policy violation" "image policy violation" -- "$forge" build "$t" --scan=skip
done
expect_fail "test-root: runs as root" "user: config.User: image runs as root" -- "$forge" verify test-root
expect_fail "test-shell: contains a shell" "no_shell: /usr/bin/(sh|dash)" -- "$forge" verify test-shell
expect_fail "test-setuid: has a setuid file" "no_setuid: /" -- "$forge" verify test-setuid
expect_fail "test-key: planted private key" "no_secrets: /home/nonroot/.ssh/id_ed25519: private key" -- "$forge" verify test-key
expect_fail "test-port: extra port" "ports: config.ExposedPorts\[2222/tcp\]" -- "$forge" verify test-port
printf '[rules]\nuser = "65532:65532"\nmax_size_mb = 64\nno_curl = true\n' >"$work/bad.toml"
expect_fail "unknown rule in the image policy names file and line" "bad.toml:4:.*no_curl" -- "$forge" verify base --policy "$work/bad.toml"

echo "# 6. pins: every Debian package of the SBOM against the lock; registry bases"
cp recipes/forge.lock "$work/forge.lock.orig"
libc_sha="$(python3 -c 'import tomllib; print(next(p["sha256"] for r in tomllib.load(open("recipes/forge.lock", "rb"))["recipes"] if r["name"] == "base" for p in r["packages"] if p["name"] == "libc6"))')"
zeros="$(printf '0%.0s' {1..64})"
sed -i "s/$libc_sha/$zeros/" recipes/forge.lock
expect_fail "verify names an SBOM package whose .deb the lock pins with another sha256" "lock_pinned: SBOM component pkg:deb/debian/libc6@.*has SHA-256 $libc_sha but the lock pins $zeros" -- "$forge" verify base
cp "$work/forge.lock.orig" recipes/forge.lock
printf 'name = "test-registry-base"\nbase = "debian:trixie"\n' >recipes/test/test-registry-base.toml
expect_fail "a registry base not pinned by digest is rejected, naming recipe, line and fix" "recipes/test/test-registry-base.toml:2:8: key .base.: registry base .debian:trixie. is not pinned by digest; pin it as .debian:trixie@sha256:" -- "$forge" build test-registry-base
rm recipes/test/test-registry-base.toml

echo "$passed passed, $failed failed ($((SECONDS - started)) s)"
[[ "$failed" -eq 0 ]]
