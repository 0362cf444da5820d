#!/usr/bin/env bash
# Supply-chain suite (issue 5): CycloneDX SBOMs, the Trivy gate with the REAL trivy binary and a
# vulnerability DB built here with trivy-db's own packages, and the image policies.
#
#   tests/suites/supply-chain.sh
#
# Images: SUPPLY_IMAGES (default: base, plus backend/frontend/postgres when their recipes exist)
# must build, validate, rebuild byte-identically and pass `forge verify`; the test recipes in
# recipes/test/ must each fail `forge verify` naming their cause. App images are added by
# listing them (or by their recipes appearing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

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

need() { command -v "$1" >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$2" >&2; }
need jq jq
need python3 python3

echo "# unit tests of the supply-chain modules"
cargo test --quiet -p forge --lib -- image_fs sbom scan policy

echo "# tools: real trivy + trivy-db fixture builder (cached by version)"
trivy="$(tests/tools/trivy.sh)"
trivy_db="$(tests/tools/trivy-db.sh)"
"$trivy" --version | head -1

cargo build --quiet --release -p forge
forge="$root/target/release/forge"

images=(${SUPPLY_IMAGES:-base})
if [[ -z "${SUPPLY_IMAGES:-}" ]]; then
  for app in backend frontend postgres; do [[ -f "recipes/$app.toml" ]] && images+=("$app"); done
fi
test_images=(test-vuln test-root test-shell test-setuid test-key test-port)
echo "# images: ${images[*]}; test images: ${test_images[*]}"

# A clean clone of the committed tree: its out/, sbom/ and lock changes stay in $work.
git clone -q "$root" "$work/p"
cd "$work/p"
"$forge" lock "${images[@]}" "${test_images[@]}" >/dev/null

# A PATH without trivy, for the fail-closed checks.
no_trivy_path="$(dirname "$(command -v cargo)"):/usr/local/bin:/usr/bin:/bin"
if PATH="$no_trivy_path" command -v trivy >/dev/null; then
  echo "a trivy is installed system-wide ($(PATH="$no_trivy_path" command -v trivy)); the no-trivy checks need it off PATH" >&2
  exit 1
fi

report_field() { jq -r "$2" "out/$1/forge-report.json"; }
digest_of() { report_field "$1" .digest; }

echo "# 1. build, SBOM, reproducibility, policy (scan skipped here; the gate is tested below)"
for img in "${images[@]}"; do
  expect_ok "forge build $img" -- "$forge" build "$img" --scan=skip
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
  cp "sbom/$img.cdx.json" "$work/$img.first.cdx.json"
done
for img in "${images[@]}"; do
  rm -rf "out/$img" "out/$img.tar" "sbom/$img.cdx.json"
done
for img in "${images[@]}"; do
  "$forge" build "$img" --scan=skip >/dev/null 2>&1 || true
  cmp -s "sbom/$img.cdx.json" "$work/$img.first.cdx.json" \
    && ok "$img: SBOM byte-identical after a clean rebuild" || not_ok "$img: SBOM differs after a clean rebuild"
done

echo "# 2. cross-check: every package trivy detects is in forge's SBOM"
# Any (even empty) DB lets trivy run offline; package detection does not need advisories.
echo '{"advisories":[]}' >"$work/empty.json"
"$trivy_db" --advisories "$work/empty.json" --cache-dir "$work/trivy-empty" 2>/dev/null
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
  count="$(purls "$work/$img.trivy.cdx.json" | wc -l)"
  if [[ -z "$missing" && "$count" -gt 0 ]]; then ok "$img: all $count packages trivy detects are in the SBOM"; else not_ok "$img: SBOM omits: $missing (trivy found $count)"; fi
done

echo "# 3. the Trivy gate with a constructed DB"
vuln_img="${SUPPLY_VULN_IMAGE:-test-vuln}"
expect_ok "forge build $vuln_img (policy-clean image with Python and npm packages)" -- "$forge" build "$vuln_img" --scan=skip
sbom="sbom/$vuln_img.cdx.json"
# Real packages of the image: two Debian source packages, one PyPI and one npm package.
read -r high_src high_ver < <(jq -r '[.components[] | select(.purl // "" | startswith("pkg:deb/")) | {s: (.properties[] | select(.name=="aquasecurity:trivy:SrcName") | .value), v: (.properties[] | select(.name=="aquasecurity:trivy:SrcVersion") | .value)}] | unique_by(.s) | .[0] | "\(.s) \(.v)"' "$sbom")
read -r crit_src < <(jq -r '[.components[] | select(.purl // "" | startswith("pkg:deb/")) | (.properties[] | select(.name=="aquasecurity:trivy:SrcName") | .value)] | unique | .[1]' "$sbom")
# Language packages installed by the app (under /app), not dpkg's copies: Trivy leaves out
# language packages whose files dpkg owns.
app_pkg() { jq -r --arg t "$1" '[.components[] | select((.purl // "" | startswith($t)) and any(.properties[]?; .name == "aquasecurity:trivy:FilePath" and (.value | startswith("/app/"))))][0] | "\(.name) \(.version)"' "$sbom"; }
read -r py_name py_ver < <(app_pkg pkg:pypi/)
read -r npm_name npm_ver < <(app_pkg pkg:npm/)
echo "# advisories: HIGH fixable in $high_src $high_ver, CRITICAL unfixed in $crit_src, PyPI $py_name $py_ver, npm $npm_name $npm_ver"
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
package = "$crit_src"
justification = "forge test: not reachable in a distroless image"
expires = $(date -u -d '+30 days' +%Y-%m-%d)
EOF
expired_exception="$work/vuln-expired.toml"
sed "s/^expires = .*/expires = $(date -u -d '-1 day' +%Y-%m-%d)/" "$valid_exception" >"$expired_exception"

scan() { FORGE_TRIVY="$trivy" "$forge" scan "$vuln_img" --cache-dir "$1" --vuln-policy "$2" "${@:3}"; }
expect_fail "gate fails on the fixable HIGH" "CVE-2099-1001.*fixed in" -- scan "$work/db-all" "$valid_exception"
[[ "$(report_field "$vuln_img" .scan.verdict)" == failed ]] && ok "failed verdict recorded in forge-report.json" || not_ok "verdict $(report_field "$vuln_img" .scan)"
{ scan "$work/db-all" "$valid_exception" --format json 2>/dev/null || true; } | jq -e '[.Results[].Vulnerabilities[]?.VulnerabilityID] | (index("GHSA-f0rg-0000-0001") != null and index("GHSA-f0rg-0000-0002") != null)' >/dev/null \
  && ok "trivy reports the PyPI and the npm advisory" || not_ok "PyPI/npm advisories not reported"
expect_fail "forge build --scan=required fails on the fixable HIGH" "CVE-2099-1001" -- env FORGE_TRIVY="$trivy" "$forge" build "$vuln_img" --scan=required --cache-dir "$work/db-all" --vuln-policy "$valid_exception"
expect_fail "forge build --scan=auto fails too (a failed scan fails in every mode)" "CVE-2099-1001" -- env FORGE_TRIVY="$trivy" "$forge" build "$vuln_img" --cache-dir "$work/db-all" --vuln-policy "$valid_exception"
expect_fail "unfixed CRITICAL without an exception fails" "CVE-2099-1002.*no fix available" -- scan "$work/db-unfixed" "$no_exception"
expect_ok "unfixed CRITICAL with a justified exception passes" -- scan "$work/db-unfixed" "$valid_exception"
[[ "$(report_field "$vuln_img" .scan.verdict)" == passed ]] && ok "passed verdict, scanner $(report_field "$vuln_img" .scan.scanner), DB $(report_field "$vuln_img" .scan.db_updated_at)" || not_ok "verdict $(report_field "$vuln_img" .scan)"
jq -e '.runs[0].results | length >= 3' "out/$vuln_img/scan.sarif" >/dev/null && ok "SARIF written" || not_ok "SARIF missing"
expect_fail "expired exception fails" "expired on" -- scan "$work/db-unfixed" "$expired_exception"
expect_fail "DB older than max_db_age_days fails closed" "older than the 7-day maximum" -- scan "$work/db-stale" "$valid_exception"
mkdir -p "$work/db-broken/db"; cp "$work/db-unfixed/db/metadata.json" "$work/db-broken/db/"; head -c 4096 /dev/urandom >"$work/db-broken/db/trivy.db"
expect_fail "a trivy crash fails closed" "trivy failed" -- scan "$work/db-broken" "$valid_exception"

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

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
