#!/usr/bin/env bash
# Fault handling of tests/lab, run by tests/suites/e2e.sh before the real `up`:
# a missing prerequisite is named with the way to get it; a component that cannot start
# (etcd, its port taken) shows its log tail; the failed `up` leaves nothing behind; and
# `down` with nothing to stop succeeds without creating anything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
lab=$REPO_ROOT/tests/lab

step "lab up names a missing prerequisite and how to get it"
if out=$(FORGE_LAB_CNI_BIN_DIR=/nonexistent "$lab/up" 2>&1); then
  fail "up succeeded without CNI plugins"
fi
grep -q "missing prerequisite: CNI plugin /nonexistent/bridge (apt-get install containernetworking-plugins" <<<"$out" \
  || fail "up did not name the missing CNI plugins: $out"

step "a component that cannot start shows its log tail, and the failed up cleans up"
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 23790)); s.listen(); sys.stdout.write("ready\n"); sys.stdout.flush(); time.sleep(600)
' >"$E2E_WORK/blocker.out" &
blocker=$!
trap 'kill $blocker 2>/dev/null || true' EXIT
wait_until 10 "port blocker ready" grep -q ready "$E2E_WORK/blocker.out"
if out=$("$lab/up" 2>&1); then
  fail "up succeeded although etcd's port 23790 was taken"
fi
kill "$blocker"
grep -q "last 40 lines of .*/logs/etcd.log" <<<"$out" || fail "up did not show etcd's log tail: $out"
grep -qi "address already in use" <<<"$out" || fail "etcd's log tail does not show the cause: $out"
leftovers=
ip link show forgelab0 >/dev/null 2>&1 && leftovers+=" interface forgelab0;"
iptables -w -n -L FORGE-LAB-FORWARD >/dev/null 2>&1 && leftovers+=" chain FORGE-LAB-FORWARD;"
[[ -d $FORGE_LAB_DIR/pids ]] && leftovers+=" pid dir;"
pgrep -f "$FORGE_LAB_DIR" >/dev/null && leftovers+=" processes: $(pgrep -af "$FORGE_LAB_DIR");"
[[ -z $leftovers ]] || fail "the failed up left behind:$leftovers"
note "failed up reported etcd's log tail and cleaned up"

step "down with nothing to stop succeeds and creates nothing"
empty=$E2E_WORK/no-lab
FORGE_LAB_DIR=$empty "$lab/down" 2>/dev/null || fail "down failed when no lab was ever started"
[[ ! -e $empty ]] || fail "down created $empty"
