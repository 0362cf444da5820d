#!/usr/bin/env bash
# images suite (issue 4): `forge build --all` builds backend, frontend and postgres from a clean
# clone; an unchanged rebuild does no work; a one-line source change rebuilds only the app layer
# (backend and frontend); bad input (stale locks, unknown builder, failing `next build`) fails
# with the culprit named and out/ intact; a clean rebuild in another clone and cache reproduces
# every digest; the frontend stays under its 160 MB goal; and the images run in a real Docker daemon
# (read-only root, all capabilities dropped, no-new-privileges, the image's own user 65532):
# backend ready against the forge-built Postgres, sign-up and a task created in headless
# Chromium through the frontend and stored by the backend (the frontend e2e test that runs
# with the assistant unconfigured is left out: here the backend has the LLM stand-in), clean
# SIGTERM drains. The frontend runs with tests/lib/node-module-probe.cjs preloaded, which proves
# that nothing the recipe's `[build] exclude` left out of the image is ever asked for.
#
# The only fake is the hosted LLM: a loopback stand-in that answers slowly, so a backend
# request is still in flight when SIGTERM arrives.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/lib/dockerd.sh
source "$ROOT/tests/lib/dockerd.sh"

step() { printf '\n== images: %s\n' "$*" >&2; }
fail() { echo "FAIL (images): $*" >&2; exit 1; }

need=()
command -v dockerd >/dev/null || need+=(docker.io)
[[ -x /usr/bin/chromium ]] || need+=(chromium)
command -v psql >/dev/null || need+=(postgresql-client)
command -v strip >/dev/null || need+=(binutils)
command -v cc >/dev/null || need+=(gcc libc6-dev)
if ((${#need[@]})); then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need[@]}" >&2
fi
command -v uv >/dev/null || python3 -m pip install --quiet uv
command -v npm >/dev/null || fail "node and npm (Node.js >= 20) are required to build the frontend"
DOCKER=/usr/bin/docker

export PGCONNECT_TIMEOUT=3
WORK=$(mktemp -d /tmp/images-suite.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -S "$WORK/dockerd/docker.sock" ]]; then
    # Containers and the network go first: the network's bridge would outlive the daemon.
    $DOCKER ps -aq | xargs -r $DOCKER rm -f >/dev/null 2>&1 || true
    $DOCKER network rm taskflow >/dev/null 2>&1 || true
  fi
  dockerd_stop "$WORK/dockerd" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

step "build forge"
(cd "$ROOT" && cargo build --release -p forge >&2)
FORGE="$ROOT/target/release/forge"

# Layer digests of out/NAME, one "concern digest" per line.
layers() { python3 -c 'import json,sys; [print(l["concern"], l["digest"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$1/out/$2/forge-report.json"; }
digest() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$1/out/$2/forge-report.json"; }

git clone -q "$ROOT" "$WORK/a/taskflow"
A="$WORK/a/taskflow"

step "cold build: forge build --all in a clean clone"
start=$(date +%s)
(cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build --all) >"$WORK/digests-a" 2>"$WORK/build-a.log" \
  || { tail -n 60 "$WORK/build-a.log" >&2; fail "cold forge build --all failed"; }
echo "cold build: $(( $(date +%s) - start )) s" >&2
for name in backend frontend postgres; do
  [[ -f "$A/out/$name/index.json" && -f "$A/out/$name.tar" ]] || fail "out/$name or out/$name.tar missing"
done

step "warm build: no change does no work"
start=$(date +%s)
(cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build --all) >"$WORK/digests-a2" 2>"$WORK/build-a2.log"
took=$(( $(date +%s) - start ))
diff "$WORK/digests-a" "$WORK/digests-a2" || fail "an unchanged rebuild changed digests"
for name in backend frontend postgres; do
  grep -q "^$name: out/$name is up to date" "$WORK/build-a2.log" || fail "warm build rewrote out/$name"
done
(( took <= 30 )) || fail "an unchanged rebuild took ${took}s: it did work"
echo "warm build: ${took} s" >&2

step "one-line source change rebuilds only the app layer"
layers "$A" backend >"$WORK/backend-layers-before"
echo "# one-line change made by tests/suites/images.sh" >>"$A/apps/backend/app/__init__.py"
(cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build backend) >/dev/null 2>"$WORK/build-a3.log"
layers "$A" backend >"$WORK/backend-layers-after"
changed=$(diff <(cat "$WORK/backend-layers-before") <(cat "$WORK/backend-layers-after") | grep '^>' | awk '{print $2}' || true)
[[ "$changed" == "app" ]] || { diff "$WORK/backend-layers-before" "$WORK/backend-layers-after" >&2; fail "expected only the app layer to change, got: ${changed:-none}"; }
git -C "$A" checkout -q -- apps/backend/app/__init__.py
(cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build backend) >/dev/null 2>&1
[[ "$(digest "$A" backend)" == "$(grep '^backend ' "$WORK/digests-a" | cut -d' ' -f2)" ]] \
  || fail "reverting the change did not give back the original backend digest"

layers "$A" frontend >"$WORK/frontend-layers-before"
sed -i 's/Keep track of your tasks/Keep track of every task/' "$A/apps/frontend/app/page.tsx"
git -C "$A" diff --quiet -- apps/frontend/app/page.tsx && fail "the one-line frontend change did not apply"
(cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build frontend) >/dev/null 2>"$WORK/build-a4.log" \
  || { tail -n 40 "$WORK/build-a4.log" >&2; fail "frontend rebuild after a one-line change failed"; }
layers "$A" frontend >"$WORK/frontend-layers-after"
changed=$(diff "$WORK/frontend-layers-before" "$WORK/frontend-layers-after" | grep '^>' | awk '{print $2}' || true)
[[ "$changed" == "app" ]] || { diff "$WORK/frontend-layers-before" "$WORK/frontend-layers-after" >&2; fail "frontend: expected only the app layer to change, got: ${changed:-none}"; }
git -C "$A" checkout -q -- apps/frontend/app/page.tsx
(cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build frontend) >/dev/null 2>&1
[[ "$(digest "$A" frontend)" == "$(grep '^frontend ' "$WORK/digests-a" | cut -d' ' -f2)" ]] \
  || fail "reverting the change did not give back the original frontend digest"

step "bad input: stale uv.lock and package-lock.json, failing build keeps out/ intact"
cp -a "$A/out/backend/forge-report.json" "$WORK/report-before"
sed -i 's/^dependencies = \[/dependencies = [\n    "six>=1.16",/' "$A/apps/backend/pyproject.toml"
if (cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build backend) >/dev/null 2>"$WORK/stale.log"; then
  fail "a pyproject.toml out of sync with uv.lock built"
fi
grep -q 'run `uv lock`' "$WORK/stale.log" || { cat "$WORK/stale.log" >&2; fail "stale uv.lock error does not say to run uv lock"; }
cmp -s "$WORK/report-before" "$A/out/backend/forge-report.json" || fail "a failed build touched out/backend"
git -C "$A" checkout -q -- apps/backend/pyproject.toml
sed -i 's/"pg": "[^"]*"/"pg": "8.0.0"/' "$A/apps/frontend/package.json"
if (cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build frontend) >/dev/null 2>"$WORK/stale-npm.log"; then
  fail "a package.json out of sync with package-lock.json built"
fi
grep -q 'run `npm install`' "$WORK/stale-npm.log" || { cat "$WORK/stale-npm.log" >&2; fail "stale package-lock error does not say to run npm install"; }
git -C "$A" checkout -q -- apps/frontend/package.json
cp -a "$A/out/frontend/forge-report.json" "$WORK/frontend-report-before"
echo 'export const broken = ;' >>"$A/apps/frontend/app/page.tsx"
if (cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build frontend) >/dev/null 2>"$WORK/next-fails.log"; then
  fail "a frontend that does not compile built"
fi
grep -q 'next build' "$WORK/next-fails.log" && grep -q '| .*app/page.tsx' "$WORK/next-fails.log" \
  || { cat "$WORK/next-fails.log" >&2; fail "a failing next build does not show Next's output naming the file"; }
cmp -s "$WORK/frontend-report-before" "$A/out/frontend/forge-report.json" || fail "a failed next build touched out/frontend"
(cd "$A/out/frontend" && python3 -c 'import json; [open("blobs/sha256/"+l["digest"][7:],"rb").close() for l in json.load(open("forge-report.json"))["layers"]]') \
  || fail "out/frontend lost a blob after a failed build"
git -C "$A" checkout -q -- apps/frontend/app/page.tsx
sed -i 's/^builder = "python-uv"/builder = "python-pip"/' "$A/recipes/backend.toml"
(cd "$A" && FORGE_CACHE="$WORK/cache-a" "$FORGE" build backend) >/dev/null 2>"$WORK/bad-builder.log" && fail "unknown builder accepted"
grep -q 'recipes/backend.toml:.*key `build.builder`' "$WORK/bad-builder.log" || { cat "$WORK/bad-builder.log" >&2; fail "unknown builder error does not name file and key"; }
git -C "$A" checkout -q -- recipes/backend.toml

step "clean rebuild in another clone and cache reproduces every digest"
git clone -q "$ROOT" "$WORK/b/elsewhere/taskflow"
B="$WORK/b/elsewhere/taskflow"
(cd "$B" && FORGE_CACHE="$WORK/cache-b" "$FORGE" build --all) >"$WORK/digests-b" 2>"$WORK/build-b.log" \
  || { tail -n 60 "$WORK/build-b.log" >&2; fail "second clean build failed"; }
for name in base backend frontend postgres; do
  grep -q "^$name " "$WORK/digests-a" || fail "forge build --all printed no $name digest"
done
diff "$WORK/digests-a" "$WORK/digests-b" >&2 || fail "clean rebuilds differ"

step "size goals (issue 4): backend <= 120 MB, frontend <= 160 MB uncompressed"
for goal in backend:120 frontend:160; do
  size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uncompressed_size"])' "$A/out/${goal%%:*}/forge-report.json")
  echo "${goal%%:*}: $((size / 1000000)) MB uncompressed" >&2
  (( size <= ${goal#*:} * 1000000 )) || fail "${goal%%:*} is $size bytes uncompressed, over its ${goal#*:} MB goal"
done

step "private Docker daemon"
dockerd_start "$WORK/dockerd"
for name in postgres backend frontend; do
  $DOCKER load -i "$A/out/$name.tar" >/dev/null
done
ref() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["reference"])' "$A/out/$1/forge-report.json"; }
PG_IMAGE=$(ref postgres); BACKEND_IMAGE=$(ref backend); FRONTEND_IMAGE=$(ref frontend)
for image in "$PG_IMAGE" "$BACKEND_IMAGE" "$FRONTEND_IMAGE"; do
  user=$($DOCKER inspect --format '{{.Config.User}}' "$image")
  [[ "$user" == 65532* ]] || fail "$image runs as '$user', not 65532"
  if $DOCKER run --rm --network none --entrypoint /bin/sh "$image" -c 'echo shell' >/dev/null 2>"$WORK/sh.err"; then
    fail "$image has a shell"
  fi
  grep -q 'no such file or directory' "$WORK/sh.err" || { cat "$WORK/sh.err" >&2; fail "$image: /bin/sh failed for another reason than being absent"; }
done

$DOCKER network create --subnet 172.31.250.0/24 taskflow >/dev/null
GATEWAY=172.31.250.1
HARDENED=(--read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges --network taskflow)
ip_of() { $DOCKER inspect --format '{{(index .NetworkSettings.Networks "taskflow").IPAddress}}' "$1"; }
wait_http() { # URL CONTAINER: bounded (120 s) wait for a 2xx answer
  local i
  for i in $(seq 1 240); do
    curl --silent --fail --max-time 2 "$1" >/dev/null 2>&1 && return 0
    [[ "$($DOCKER inspect --format '{{.State.Running}}' "$2")" == true ]] || break
    sleep 0.5
  done
  $DOCKER logs "$2" 2>&1 | tail -n 40 >&2
  fail "$2 did not answer $1"
}

step "postgres from recipes/postgres.toml"
PG_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
$DOCKER run -d --name postgres "${HARDENED[@]}" \
  --tmpfs /var/lib/postgresql/data:uid=65532,gid=65532,mode=0700 \
  -e POSTGRES_USER=taskflow -e POSTGRES_PASSWORD="$PG_PASSWORD" -e POSTGRES_DB=taskflow "$PG_IMAGE" >/dev/null
PG_IP=$(ip_of postgres)
for i in $(seq 1 120); do
  PGPASSWORD="$PG_PASSWORD" psql -h "$PG_IP" -U taskflow -d taskflow -tAc 'select 1' >/dev/null 2>&1 && break
  [[ "$($DOCKER inspect --format '{{.State.Running}}' postgres)" == true ]] || { $DOCKER logs postgres >&2; fail "postgres exited"; }
  (( i < 120 )) || { $DOCKER logs postgres >&2; fail "postgres did not accept connections"; }
  sleep 0.5
done
[[ "$(PGPASSWORD="$PG_PASSWORD" psql -h "$PG_IP" -U taskflow -d taskflow -tAc 'show jit')" == off ]] || fail "postgres runs with jit on but has no LLVM"
DB_URL="postgresql://taskflow:$PG_PASSWORD@$PG_IP:5432/taskflow"

# The slow stand-in for the hosted LLM (see the header): answers after 3 s.
FAKE_LLM_PORT=18088
python3 - "$GATEWAY" "$FAKE_LLM_PORT" >"$WORK/fake-llm.log" 2>&1 <<'EOF' &
import json, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(3)
        body = json.dumps({"choices": [{"message": {"role": "assistant", "content": "noted"}, "finish_reason": "stop"}]}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
HTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
EOF
PIDS+=($!)

FRONTEND_IP=172.31.250.30
FRONTEND_URL="http://$FRONTEND_IP:3000"
BACKEND_ENV=(-e DATABASE_URL="$DB_URL" -e BETTER_AUTH_URL="$FRONTEND_URL" -e DRAIN_SECONDS=3
  -e OPENAI_API_KEY=fake-key-for-the-loopback-stand-in -e OPENAI_BASE_URL="http://$GATEWAY:$FAKE_LLM_PORT/v1")

step "backend migrations (documented second entrypoint)"
$DOCKER run --rm "${HARDENED[@]}" --entrypoint /usr/bin/python3.13 "${BACKEND_ENV[@]}" "$BACKEND_IMAGE" -m app.migrate >&2 \
  || fail "python3.13 -m app.migrate failed"

step "backend"
$DOCKER run -d --name backend --ip 172.31.250.20 "${HARDENED[@]}" "${BACKEND_ENV[@]}" "$BACKEND_IMAGE" >/dev/null
BACKEND_URL="http://172.31.250.20:8000"
wait_http "$BACKEND_URL/readyz" backend
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$BACKEND_URL/readyz")" == 200 ]] || fail "backend /readyz is not 200"

step "frontend: what the recipe excludes is not in the image"
python3 -c 'import tomllib,sys; print("\n".join(tomllib.load(open(sys.argv[1],"rb"))["build"]["exclude"]))' "$A/recipes/frontend.toml" >"$WORK/excluded"
(( $(wc -l <"$WORK/excluded") > 0 )) || fail "recipes/frontend.toml excludes nothing"
present=$($DOCKER run --rm --network none --entrypoint /usr/local/bin/node "$FRONTEND_IMAGE" -e '
  const fs = require("fs");
  for (const p of process.argv.slice(1)) if (fs.existsSync("/app/" + p)) console.log(p);' $(cat "$WORK/excluded"))
[[ -z "$present" ]] || fail "excluded paths are in the frontend image: $present"

step "frontend"
cp "$ROOT/tests/lib/node-module-probe.cjs" "$WORK/module-probe.cjs"
chmod 644 "$WORK/module-probe.cjs"
$DOCKER run -d --name frontend --ip "$FRONTEND_IP" "${HARDENED[@]}" \
  -v "$WORK/module-probe.cjs:/module-probe.cjs:ro" -e NODE_OPTIONS=--require=/module-probe.cjs \
  -e DATABASE_URL="$DB_URL" -e BETTER_AUTH_SECRET="$(head -c 32 /dev/urandom | base64)" \
  -e BETTER_AUTH_URL="$FRONTEND_URL" -e BACKEND_URL="$BACKEND_URL" -e DRAIN_SECONDS=3 "$FRONTEND_IMAGE" >/dev/null
wait_http "$FRONTEND_URL/api/health" frontend
curl -s --fail "$FRONTEND_URL/sign-in" | grep -qi 'sign in' || fail "the frontend does not serve its sign-in page"

step "end to end in headless Chromium: sign up, create tasks through the frontend"
(cd "$A/apps/frontend" && npm ci --no-audit --no-fund --ignore-scripts >&2)
(cd "$A/apps/frontend" && FRONTEND_URL="$FRONTEND_URL" BACKEND_URL="$BACKEND_URL" node --test --test-name-pattern "sign up, then manage tasks" e2e/tasks.e2e.test.mjs >&2) || {
  $DOCKER logs frontend 2>&1 | tail -n 40 >&2; $DOCKER logs backend 2>&1 | tail -n 40 >&2; fail "end-to-end test failed"; }
stored=$(PGPASSWORD="$PG_PASSWORD" psql -h "$PG_IP" -U taskflow -d taskflow -tAc "select count(*) from tasks where title = 'Buy oat milk' and completed")
(( stored >= 1 )) || fail "the task created through the frontend is not in the backend's database"

step "SIGTERM: backend finishes an in-flight request and exits 0 within the drain period"
JAR="$WORK/cookies"
curl -s --fail -c "$JAR" -H 'Content-Type: application/json' -H "Origin: $FRONTEND_URL" \
  -d '{"name":"Drain","email":"drain@example.test","password":"correct horse battery staple"}' \
  "$FRONTEND_URL/api/auth/sign-up/email" >"$WORK/signup.json" || fail "sign-up through Better Auth's HTTP API failed"
USER_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["user"]["id"])' "$WORK/signup.json")
TOKEN=$(curl -s --fail -b "$JAR" "$FRONTEND_URL/api/auth/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -s -o "$WORK/chat.json" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"message":"remember the milk"}' \
  "$BACKEND_URL/api/$USER_ID/chat" >"$WORK/chat.code" &
CHAT=$!
sleep 1
start=$(date +%s)
$DOCKER kill --signal TERM backend >/dev/null
wait "$CHAT" || true
[[ "$(cat "$WORK/chat.code")" == 200 ]] || { cat "$WORK/chat.json" >&2; fail "the in-flight chat request did not complete (HTTP $(cat "$WORK/chat.code"))"; }
code=$($DOCKER wait backend)
took=$(( $(date +%s) - start ))
[[ "$code" == 0 ]] || { $DOCKER logs backend 2>&1 | tail -n 20 >&2; fail "backend exited $code after SIGTERM"; }
(( took <= 15 )) || fail "backend took ${took}s to exit after SIGTERM"

step "SIGTERM: frontend keeps serving during the drain and exits 0"
start=$(date +%s)
$DOCKER kill --signal TERM frontend >/dev/null
sleep 1
[[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$FRONTEND_URL/sign-in")" == 200 ]] \
  || fail "the frontend stopped serving pages during its drain period"
code=$($DOCKER wait frontend)
took=$(( $(date +%s) - start ))
[[ "$code" == 0 ]] || { $DOCKER logs frontend 2>&1 | tail -n 20 >&2; fail "frontend exited $code after SIGTERM"; }
(( took <= 15 )) || fail "frontend took ${took}s to exit after SIGTERM"

step "frontend: no module the server asked for was missing"
# Next itself tries these two optionally (tracing with OpenTelemetry when installed; webpack
# for a config that needs it at build time) and carries on without them; the build never
# traced them, so they are not among the exclusions. Anything else unresolved is a failure.
# (Logs go to a file first: `grep -q` closing a pipe early would fail the pipeline.)
$DOCKER logs frontend >"$WORK/frontend.log" 2>&1
grep '^module-probe: unresolved' "$WORK/frontend.log" \
  | grep -v -e '"@opentelemetry/api"' -e '"next/dist/compiled/webpack/webpack"' >"$WORK/unresolved" || true
[[ ! -s "$WORK/unresolved" ]] || { cat "$WORK/unresolved" >&2; fail "the frontend asked for modules the image does not have"; }
grep -q '^module-probe: unresolved "@opentelemetry/api"' "$WORK/frontend.log" \
  || fail "the module probe did not run in the frontend container (NODE_OPTIONS --require)"

step "all image checks passed"
