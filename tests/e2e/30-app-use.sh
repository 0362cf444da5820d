#!/usr/bin/env bash
# Issue 8, step 2: through the frontend's NodePort, a user signs up and creates a task in
# headless Chromium, and the task reads back over plain HTTP (Better Auth sign-in, then the
# server-rendered /tasks page). The user and task are kept for the restart step (55).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

step "browser: sign up and create a task"
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends -qq chromium >/dev/null
(cd "$REPO_ROOT/tests/e2e/browser" && npm ci --no-audit --no-fund --ignore-scripts --silent)
email="lab-$(date +%s)@example.test" password="lab e2e password $RANDOM$RANDOM" title="Lab task $(date +%s)"
printf 'E2E_EMAIL=%q\nE2E_PASSWORD=%q\nE2E_TASK=%q\n' "$email" "$password" "$title" >"$E2E_WORK/app-user.env"
FRONTEND_URL=$FRONTEND_URL E2E_EMAIL=$email E2E_PASSWORD=$password E2E_ARTIFACTS=$E2E_WORK \
  node "$REPO_ROOT/tests/e2e/browser/taskflow.mjs" create "$title" >&2 \
  || fail "the browser could not sign up and create a task (screenshot in $E2E_WORK)"

step "HTTP: sign in and read the task back"
jar=$E2E_WORK/cookies.txt
status=$(curl -sS -o "$E2E_WORK/sign-in.json" -w '%{http_code}' --max-time 10 -c "$jar" \
  -H "Origin: $FRONTEND_URL" -H 'Content-Type: application/json' \
  --data "$(jq -n --arg email "$email" --arg password "$password" '{email: $email, password: $password}')" \
  "$FRONTEND_URL/api/auth/sign-in/email")
[[ $status == 200 ]] || fail "Better Auth sign-in answered $status: $(head -c 300 "$E2E_WORK/sign-in.json")"
page=$(curl -fsS --max-time 10 -b "$jar" "$FRONTEND_URL/tasks") || fail "GET /tasks with the session failed"
grep -qF "$title" <<<"$page" || fail "the /tasks page of the signed-in user does not show '$title'"
note "task '$title' created in the browser and read back over HTTP"
