#!/usr/bin/env bash
# Issue 8, step 3, and issue 6's `forge deploy --env dev` against a real cluster: a new app
# version (a build marker that the backend's /healthz and the frontend's /api/health return,
# patched into a scratch copy of the project, never into the checkout) is built by forge,
# where only the app layers change, and rolled out by `forge deploy` (preflight, build, gate,
# load into the lab's containerd, pin, helm upgrade --install --atomic --wait) while a bounded
# load loop hits the frontend (NodePort) and the backend (its ClusterIP, from the node): zero
# failed requests. Afterwards every pod serves the marker, the release runs the new digests,
# and the operations log holds one line per deploy step.
#
# The deploy's gate runs the real trivy, offline, against a vulnerability DB built here from
# an empty advisory list (tests/tools/trivy-db.sh): no real DB can be downloaded on this
# network, so this proves the gate is wired into deploy, not that the images are CVE-free
# (the supply-chain suite tests the gate's verdicts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$E2E_WORK/app-user.env"   # E2E_EMAIL, E2E_PASSWORD, E2E_TASK from step 30

marker="e2e-$(date +%s)"
next=$E2E_WORK/next-version

step "a new app version in a scratch copy of the project: build marker $marker"
project_copy "$next"
replace_once "$next/apps/backend/app/api/routes/health.py" \
  'return {"status": "ok"}' "return {\"status\": \"ok\", \"build\": \"$marker\"}"
replace_once "$next/apps/frontend/app/api/health/route.ts" \
  '{ status: draining ? "draining" : "ok" },' "{ status: draining ? \"draining\" : \"ok\", build: \"$marker\" },"

step "the scan gate: real trivy, offline DB from an empty advisory list"
FORGE_TRIVY=$("$REPO_ROOT/tests/tools/trivy.sh")
FORGE_TRIVY_CACHE=$E2E_WORK/trivy-db
echo '{"advisories":[]}' >"$E2E_WORK/no-advisories.json"
"$("$REPO_ROOT/tests/tools/trivy-db.sh")" --advisories "$E2E_WORK/no-advisories.json" --cache-dir "$FORGE_TRIVY_CACHE" >&2
export FORGE_TRIVY FORGE_TRIVY_CACHE

step "forge build backend frontend: only the app layers are rebuilt"
started=$SECONDS
(cd "$next" && "$FORGE" build backend frontend >&2)
figure "new version: forge build backend frontend" "$((SECONDS - started))s"
declare -A new_digest
for app in backend frontend; do
  old=$REPO_ROOT/out/$app/forge-report.json new=$next/out/$app/forge-report.json
  changed=$(jq -rn --slurpfile a "$old" --slurpfile b "$new" \
    'if ($a[0].layers | length) != ($b[0].layers | length) then "the layer count"
     else [range($a[0].layers | length) as $i | select($a[0].layers[$i].digest != $b[0].layers[$i].digest)
           | $b[0].layers[$i].concern] | join(",") end')
  [[ $changed == app ]] || fail "$app: the new version changed [$changed], expected only the app layer"
  new_digest[$app]=$(jq -r .digest "$new")
  [[ ${new_digest[$app]} != $(jq -r .digest "$old") ]] || fail "$app: the new version has the old digest"
  note "$app: only the app layer changed; ${new_digest[$app]}"
done

# load_loop STOPFILE OUT: about 4 requests a second until STOPFILE exists (15 minutes at
# most): the frontend's health endpoint and its /tasks page for the signed-in user (the
# frontend fetches the tasks from the backend; the page must show the step-30 task), and the
# backend's /healthz through its Service. A request fails on an error status, no answer
# within 10 s, or a /tasks page without the task. Writes "sent failed" to OUT, failures to
# OUT.log.
load_loop() {
  local stop=$1 out=$2 until=$((SECONDS + 900)) sent=0 failed=0 url body
  : >"$out.log"
  while [[ ! -e $stop ]] && ((SECONDS < until)); do
    for url in "$FRONTEND_URL/api/health" "$FRONTEND_URL/tasks" "$backend_url/healthz"; do
      sent=$((sent + 1))
      if ! body=$(curl -fsS --max-time 10 -b "$jar" "$url" 2>&1) \
        || [[ $url == */tasks && $body != *"$E2E_TASK"* ]]; then
        failed=$((failed + 1))
        printf '%s %s %s\n' "$(date +%T)" "$url" "${body:0:200}" >>"$out.log"
      fi
    done
    sleep 0.5
  done
  echo "$sent $failed" >"$out"
}

step "sign in (the load loop reads the task list as this user)"
jar=$E2E_WORK/update-cookies.txt
status=$(curl -sS -o "$E2E_WORK/update-sign-in.json" -w '%{http_code}' --max-time 10 -c "$jar" \
  -H "Origin: $FRONTEND_URL" -H 'Content-Type: application/json' \
  --data "$(jq -n --arg email "$E2E_EMAIL" --arg password "$E2E_PASSWORD" '{email: $email, password: $password}')" \
  "$FRONTEND_URL/api/auth/sign-in/email")
[[ $status == 200 ]] || fail "Better Auth sign-in answered $status: $(head -c 300 "$E2E_WORK/update-sign-in.json")"
backend_url="http://$(kc -n "$APP_NS" get service "$RELEASE-todo-app-backend" -o jsonpath='{.spec.clusterIP}'):8000"
curl -fsS --max-time 5 "$backend_url/healthz" >/dev/null || fail "the backend Service $backend_url does not answer from the node"

step "forge deploy --env dev while the load loop runs"
# This machine's setting on top of values-dev.yaml: the origin the browser and curl use.
printf 'frontend:\n  publicUrl: "%s"\n' "$FRONTEND_URL" >"$E2E_WORK/lab-values.yaml"
rm -f "$E2E_WORK/load.stop"
load_loop "$E2E_WORK/load.stop" "$E2E_WORK/load.out" &
loader=$!
trap 'touch "$E2E_WORK/load.stop"; wait "$loader" || true' EXIT
sleep 5
started=$SECONDS
lab_deploy "$next" --release "$RELEASE" --namespace "$APP_NS" --values "$E2E_WORK/lab-values.yaml" \
  >"$E2E_WORK/deploy.out" || { cat "$E2E_WORK/deploy.out" >&2; fail "forge deploy --env dev failed (its message above)"; }
figure "forge deploy --env dev (build..helm --wait)" "$((SECONDS - started))s"
cat "$E2E_WORK/deploy.out" >&2
sleep 5   # keep loading a little after the last old pod went away
touch "$E2E_WORK/load.stop"
wait "$loader"
trap - EXIT
read -r sent failed <"$E2E_WORK/load.out"
figure "update: requests sent / failed" "$sent / $failed"
((failed == 0)) || { cat "$E2E_WORK/load.out.log" >&2; fail "$failed of $sent requests failed during the rolling update"; }
((sent > 60)) || fail "the load loop sent only $sent requests"

step "what forge deploy printed: how to open the app"
open_line=$(grep '^open ' "$E2E_WORK/deploy.out") || fail "forge deploy printed no 'open ...' line"
open_url=$(awk '{print $2}' <<<"$open_line")
[[ $open_url == "$FRONTEND_URL/" ]] || fail "forge deploy says '$open_line', expected $FRONTEND_URL/ (frontend.publicUrl)"
curl -fsS --max-time 5 -o /dev/null "$open_url" || fail "the URL forge deploy printed ($open_url) does not answer"

# only_image COMPONENT IMAGE: every pod of the component runs IMAGE.
only_image() {
  local images
  images=$(kc -n "$APP_NS" get pods -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component=$1" \
    -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)
  [[ $images == "$2" ]]
}

step "every pod serves the new version, the release runs the new digests"
wait_until 120 "release Ready after the deploy" release_ready
for ((i = 0; i < 6; i++)); do
  got=$(curl -fsS --max-time 5 "$backend_url/healthz" | jq -r '.build // "none"')
  [[ $got == "$marker" ]] || fail "backend /healthz says build '$got', expected $marker"
  got=$(curl -fsS --max-time 5 "$FRONTEND_URL/api/health" | jq -r '.build // "none"')
  [[ $got == "$marker" ]] || fail "frontend /api/health says build '$got', expected $marker"
done
for app in backend frontend; do
  want=forge.local/$app@${new_digest[$app]}
  image=$(kc -n "$APP_NS" get deployment "$RELEASE-todo-app-$app" -o jsonpath='{.spec.template.spec.containers[0].image}')
  [[ $image == "$want" ]] || fail "deployment $app runs $image, expected $want"
  # Old pods drain for up to terminationGracePeriodSeconds before they go away.
  wait_until 120 "only $want pods for $app" only_image "$app" "$want"
  helm_app get manifest "$RELEASE" | grep -qF "image: \"$want\"" || helm_app get manifest "$RELEASE" | grep -qF "image: $want" \
    || fail "the release's manifest does not reference $want"
done
note "backend and frontend serve build $marker from ${new_digest[backend]} / ${new_digest[frontend]}"

step "the operations log has every deploy step"
ops=$next/.forge/ops.jsonl
[[ -s $ops ]] || fail "forge deploy wrote no operations log ($ops)"
jq -e -s --arg b "${new_digest[backend]}" --arg f "${new_digest[frontend]}" '
  def has_times: (.started_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T.*Z$")) and (.ended_at | test("Z$"))
                 and (.duration_ms | type == "number");
  . as $all
  | ([$all[] | .step] == ["deploy.preflight", "deploy.build", "deploy.gate", "deploy.load", "deploy.load",
                          "deploy.load", "deploy.pin", "deploy.helm"])
    and all($all[]; .outcome == "ok" and has_times)
    and ([$all[] | select(.step == "deploy.gate" or .step == "deploy.pin") | .digests.backend == $b and .digests.frontend == $f] | all)
    and ([$all[] | select(.step == "deploy.load") | .subject] | sort == ["backend", "frontend", "postgres"])
    and ($all[] | select(.step == "deploy.load" and .subject == "backend") | .digests.backend == $b and .detail.destination != null)
' "$ops" >/dev/null || { cat "$ops" >&2; fail "the operations log $ops lacks a step, a field or the new digests"; }
jq -r '"e2e: ops.jsonl: \(.step) \(.subject) \(.outcome) \(.duration_ms)ms"' "$ops" >&2
figure "deploy steps (ms): preflight/build/gate/helm" "$(jq -rs 'map(select(.step | test("preflight|build|gate|helm")) | .duration_ms) | join("/")' "$ops")"

# Later steps upgrade from the version that now runs.
cp "$next/charts/todo-app/values-dev.yaml" "$VALUES"
