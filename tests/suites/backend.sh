#!/usr/bin/env bash
# Backend suite: ruff, then the FastAPI app's pytest tests against a real PostgreSQL.
# Installs uv (pip) and Debian's postgresql if missing, reproduces the locked
# environment with `uv sync --frozen`, starts Postgres on a loopback port in a
# temporary directory, runs pytest, and stops Postgres on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BACKEND="$ROOT/apps/backend"
# shellcheck source=../lib/postgres.sh
source "$ROOT/tests/lib/postgres.sh"

if ! command -v uv >/dev/null 2>&1; then
    echo "backend suite: installing uv with pip" >&2
    python3 -m pip install --quiet uv
fi

WORK=$(mktemp -d -t backend-suite.XXXXXX)
cleanup() {
    pg_stop "$WORK/pg" || echo "backend suite: could not stop postgres in $WORK/pg" >&2
    rm -rf "$WORK"
}
trap cleanup EXIT

cd "$BACKEND"
# The host Python runs the tests; the lock is universal, so the image's
# Python 3.13 installs the same versions.
uv sync --frozen --python "$(command -v python3)"

# A free loopback port for this run's Postgres.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pg_start "$WORK/pg" "$PORT"
export TEST_DATABASE_URL="$PG_URL"
# tests/test_db_outage.py stops and restarts this Postgres.
export TEST_PG_DIR="$WORK/pg" TEST_PG_PORT="$PORT"

# Read-only-friendly: no .pyc files next to the sources.
export PYTHONDONTWRITEBYTECODE=1
uv run --frozen --no-sync ruff check --no-cache .
uv run --frozen --no-sync ruff format --no-cache --check .
uv run --frozen --no-sync python -m pytest -p no:cacheprovider "$@"
