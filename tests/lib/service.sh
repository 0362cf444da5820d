# shellcheck shell=bash
# Start-up and shut-down of the background services the test helpers in tests/lib/ run
# (source this file; containerd.sh, registry.sh and dockerd.sh do).
#
#   service_wait NAME PIDFILE LOG SECONDS CHECK...
#       runs CHECK every 0.1 s until it succeeds (returns 0); fails with the log's tail when
#       the process in PIDFILE exits or SECONDS pass
#   service_stop PIDFILE SECONDS
#       SIGTERM to the pid in PIDFILE (never by name), SIGKILL if it is still there after
#       SECONDS; removes PIDFILE

service_wait() {
  local name=$1 pidfile=$2 log=$3 seconds=$4
  shift 4
  local i
  for i in $(seq 1 $((seconds * 10))); do
    "$@" && return 0
    if ! kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
      echo "$name exited during start-up; log ($log) ends:" >&2
      tail -n 30 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "$name did not answer within $seconds s; log ($log) ends:" >&2
  tail -n 30 "$log" >&2
  return 1
}

service_stop() {
  local pidfile=$1 seconds=$2 pid i
  [ -s "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -TERM "$pid" 2>/dev/null; then
    for i in $(seq 1 $((seconds * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pidfile"
  return 0
}
