#!/usr/bin/env bash
# Runs the named test suites (tests/suites/<name>.sh) one after another, each in its own
# process, and ends with one "N passed, N failed" line so CI can read the outcome.
# A failing suite does not stop the others: one run shows every broken area.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0 failed=0 failed_names=()
for suite in "$@"; do
  script="tests/suites/$suite.sh"
  if [[ ! -x "$script" ]]; then
    echo "run-suites: no executable $script; add it or drop '$suite' from the Makefile" >&2
    failed=$((failed + 1)); failed_names+=("$suite"); continue
  fi
  echo "=== suite $suite ==="
  start=$SECONDS
  if "$script"; then
    passed=$((passed + 1)); outcome=ok
  else
    failed=$((failed + 1)); failed_names+=("$suite"); outcome=FAILED
  fi
  echo "=== suite $suite: $outcome in $((SECONDS - start)) s ==="
done

((failed == 0)) || echo "failed suites: ${failed_names[*]}"
echo "$passed passed, $failed failed"
((failed == 0))
