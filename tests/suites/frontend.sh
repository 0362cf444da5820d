#!/usr/bin/env bash
# Frontend suite: lint, typecheck, vitest (unit, then Better Auth against real Postgres), the
# production build (.next/standalone), the server's start/stop behaviour, and an end-to-end
# test in headless Chromium against the real stack: Postgres + backend + the built frontend.
#
# Installs what it needs (npm ci, Debian's chromium and postgresql, uv), starts every service
# on a free loopback port with its data under a mktemp dir, and stops them by pid on exit.
# The backend first runs without OPENAI_API_KEY, so the e2e sees "assistant not configured";
# then it is restarted against e2e/scripted-llm.mjs, a stand-in for the hosted LLM, for the
# assistant's own e2e test.
#
# As root, the frontend runs the way the image runs it: as UID 65532 from a read-only copy
# of .next/standalone (only /tmp and .next/cache writable).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FRONTEND="$ROOT/apps/frontend"
BACKEND="$ROOT/apps/backend"
# shellcheck source=../lib/postgres.sh
source "$ROOT/tests/lib/postgres.sh"

say() { echo "frontend suite: $*" >&2; }
fail() { say "$*"; exit 1; }

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@" >&2
}

# ---- tools --------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 || fail "node (>= 20) is required: install Node.js 20 or 22"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
(( NODE_MAJOR >= 20 )) || fail "node $(node -v) is too old: Next.js 15 needs Node.js >= 20"
if [[ ! -x /usr/bin/chromium ]]; then
    say "installing Debian's chromium for the end-to-end test"
    apt_install chromium
fi
if ! command -v uv >/dev/null 2>&1; then
    say "installing uv with pip (to run the backend)"
    python3 -m pip install --quiet uv
fi

WORK=$(mktemp -d -t frontend-suite.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    pg_stop "$WORK/pg" || say "could not stop postgres in $WORK/pg"
    # The read-only app copy is owned by root and may hold a bind mount only inside the
    # (already gone) mount namespace: a plain rm is enough.
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_http() { # URL WHAT LOGFILE PID: bounded wait (120 s) for a 2xx answer
    local url=$1 what=$2 logfile=$3 pid=$4 i
    for i in $(seq 1 240); do
        if curl --silent --fail --max-time 2 "$url" >/dev/null 2>&1; then return 0; fi
        if ! kill -0 "$pid" 2>/dev/null; then
            say "$what exited during start-up; its log:"; tail -n 40 "$logfile" >&2; return 1
        fi
        sleep 0.5
    done
    say "$what did not answer $url within 120 s; its log:"; tail -n 40 "$logfile" >&2
    return 1
}

export NEXT_TELEMETRY_DISABLED=1

# ---- static checks, unit tests, build -----------------------------------------------------
cd "$FRONTEND"
say "npm ci"
npm ci --no-audit --no-fund
say "lint + typecheck"
npm run lint
npm run typecheck
say "unit tests"
npm test
say "production build"
npm run build
[[ -f .next/standalone/server.js && -f .next/standalone/next-server.js ]] \
    || fail "npm run build did not produce .next/standalone/server.js and next-server.js"

# ---- Postgres: one database shared by backend and frontend, as in the cluster ----------------
pg_start "$WORK/pg" "$(free_port)"
# The lifecycle tests start servers with throw-away secrets: they get a database of their own.
psql "$PG_URL" --quiet --no-psqlrc -c 'CREATE DATABASE taskflow' -c 'CREATE DATABASE lifecycle' >/dev/null
APP_DB_URL="${PG_URL%/postgres}/taskflow"

say "Better Auth tests against Postgres"
TEST_DATABASE_URL="$PG_URL" npm run test:db

say "server start/stop tests"
DATABASE_URL="${PG_URL%/postgres}/lifecycle" node --test e2e/server-lifecycle.test.mjs

# ---- the stack: backend + frontend ----------------------------------------------------------
FRONTEND_PORT=$(free_port)
BACKEND_PORT=$(free_port)
FRONTEND_URL="http://127.0.0.1:$FRONTEND_PORT"
BACKEND_URL="http://127.0.0.1:$BACKEND_PORT"

start_backend() { # extra env assignments (the assistant's settings) as arguments
    (
        cd "$BACKEND"
        exec env -u OPENAI_API_KEY PYTHONDONTWRITEBYTECODE=1 DATABASE_URL="$APP_DB_URL" \
            BETTER_AUTH_URL="$FRONTEND_URL" PORT="$BACKEND_PORT" DRAIN_SECONDS=0 "$@" .venv/bin/python -m app
    ) >>"$WORK/backend.log" 2>&1 &
    BACKEND_PID=$!
    PIDS+=("$BACKEND_PID")
    wait_http "$BACKEND_URL/readyz" backend "$WORK/backend.log" "$BACKEND_PID"
}

say "backend on $BACKEND_URL (no OPENAI_API_KEY: assistant not configured)"
(cd "$BACKEND" && uv sync --frozen --python "$(command -v python3)" >&2)
(cd "$BACKEND" && DATABASE_URL="$APP_DB_URL" BETTER_AUTH_URL="$FRONTEND_URL" .venv/bin/python -m app.migrate >&2)
start_backend

# The image's /app: the assembled standalone tree, not writable by the app's user.
APP="$WORK/app"
cp -a "$FRONTEND/.next/standalone" "$APP"
mkdir -p "$APP/.next/cache" "$WORK/next-cache"
FRONTEND_ENV=(
    HOSTNAME=127.0.0.1 PORT="$FRONTEND_PORT" HOME=/tmp NEXT_TELEMETRY_DISABLED=1
    DATABASE_URL="$APP_DB_URL" BETTER_AUTH_SECRET="$(head -c 32 /dev/urandom | base64)"
    BETTER_AUTH_URL="$FRONTEND_URL" BACKEND_URL="$BACKEND_URL" DRAIN_SECONDS=0
)
say "frontend on $FRONTEND_URL"
if [[ $(id -u) -eq 0 ]]; then
    chown 65532:65532 "$WORK/next-cache"
    # Own mount namespace: /app read-only, .next/cache a writable bind, then drop to 65532.
    # unshare and setpriv exec, so $! is the node process itself.
    env -i PATH="$PATH" "${FRONTEND_ENV[@]}" unshare --mount --propagation private -- sh -c '
        mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" &&
        mount --bind "$1" "$0/.next/cache" && cd "$0" &&
        exec setpriv --reuid 65532 --regid 65532 --clear-groups node server.js' "$APP" "$WORK/next-cache" \
        >"$WORK/frontend.log" 2>&1 &
else
    (cd "$APP" && exec env -i PATH="$PATH" "${FRONTEND_ENV[@]}" node server.js) >"$WORK/frontend.log" 2>&1 &
fi
FRONTEND_PID=$!
PIDS+=("$FRONTEND_PID")
wait_http "$FRONTEND_URL/api/health" frontend "$WORK/frontend.log" "$FRONTEND_PID"
if [[ $(id -u) -eq 0 ]]; then
    grep -Eq '^Uid:[[:space:]]+65532[[:space:]]' "/proc/$FRONTEND_PID/status" \
        || fail "the frontend (pid $FRONTEND_PID) is not running as UID 65532"
fi
curl --silent --fail "$FRONTEND_URL/api/auth/jwks" | grep -q '"alg":"EdDSA"' \
    || fail "$FRONTEND_URL/api/auth/jwks does not serve an EdDSA key"

say "end-to-end test in headless Chromium"
if ! FRONTEND_URL="$FRONTEND_URL" BACKEND_URL="$BACKEND_URL" node --test e2e/tasks.e2e.test.mjs; then
    say "frontend log:"; tail -n 40 "$WORK/frontend.log" >&2
    say "backend log:"; tail -n 40 "$WORK/backend.log" >&2
    exit 1
fi
# The assistant for real, except the LLM: the backend restarted against a scripted stand-in.
LLM_PORT=$(free_port)
node e2e/scripted-llm.mjs "$LLM_PORT" >"$WORK/llm.log" 2>&1 &
PIDS+=($!)
kill -TERM "$BACKEND_PID"
wait "$BACKEND_PID" || fail "the backend did not exit cleanly on SIGTERM"
say "backend restarted with a scripted stand-in LLM on port $LLM_PORT"
start_backend OPENAI_API_KEY=scripted-llm-key OPENAI_BASE_URL="http://127.0.0.1:$LLM_PORT/v1" OPENAI_MODEL=scripted
say "assistant end-to-end test in headless Chromium"
if ! FRONTEND_URL="$FRONTEND_URL" node --test e2e/assistant.e2e.test.mjs; then
    say "frontend log:"; tail -n 40 "$WORK/frontend.log" >&2
    say "backend log:"; tail -n 40 "$WORK/backend.log" >&2
    say "scripted LLM log:"; tail -n 20 "$WORK/llm.log" >&2
    exit 1
fi

if grep -q '"level":"error"' "$WORK/frontend.log"; then
    say "the frontend logged errors during the e2e run:"; grep '"level":"error"' "$WORK/frontend.log" >&2
    exit 1
fi
say "all frontend checks passed"
