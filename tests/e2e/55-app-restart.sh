#!/usr/bin/env bash
# Issue 8, step 5: every lab component stops and starts again; the release's pods come back
# Ready and the task created in step 30 is still there (Postgres on its claim).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -f $E2E_WORK/app-user.env ]] || fail "step 30 left no user and task to look for"
source "$E2E_WORK/app-user.env"

step "stop every lab component, start them again"
"$REPO_ROOT/tests/lab/down" >&2
started=$SECONDS
"$REPO_ROOT/tests/lab/up" >/dev/null
figure "app restart: lab up after down" "$((SECONDS - started))s"
# Statuses still read Ready from before the stop until the kubelet reports afresh; wait for
# the frontend to answer through its NodePort and every rollout to be complete.
wait_until 300 "frontend answering again" curl -fsS --max-time 3 "$FRONTEND_URL/api/health"
wait_until 300 "release Ready again" release_ready
figure "app restart: down -> app serving again" "$((SECONDS - started))s"

step "the task created before the restart is still there"
FRONTEND_URL=$FRONTEND_URL E2E_EMAIL=$E2E_EMAIL E2E_PASSWORD=$E2E_PASSWORD E2E_ARTIFACTS=$E2E_WORK \
  node "$REPO_ROOT/tests/e2e/browser/taskflow.mjs" expect "$E2E_TASK" >&2 \
  || fail "the task '$E2E_TASK' is gone after the restart (screenshot in $E2E_WORK)"
