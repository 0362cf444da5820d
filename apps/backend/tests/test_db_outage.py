"""Postgres goes away under a running app, then comes back.

Uses the suite's own Postgres (tests/suites/backend.sh exports TEST_PG_DIR and
TEST_PG_PORT) and stops/starts it with tests/lib/postgres.sh.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

POSTGRES_SH = Path(__file__).resolve().parents[3] / "tests" / "lib" / "postgres.sh"

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_PG_DIR"),
    reason="needs the suite's own Postgres (TEST_PG_DIR, TEST_PG_PORT from tests/suites/backend.sh) to stop it",
)


def postgres(command: str) -> None:
    script = f'source "{POSTGRES_SH}"; {command} "$TEST_PG_DIR" $TEST_PG_PORT'
    subprocess.run(["bash", "-c", script], check=True, timeout=120)


def test_requests_fail_cleanly_while_postgres_is_down_and_recover(
    api: httpx.Client, user_id: str, auth: dict[str, str]
) -> None:
    tasks = f"/api/{user_id}/tasks"
    assert api.post(tasks, json={"title": "before the outage"}, headers=auth).status_code == 201

    postgres("pg_stop")
    try:
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["detail"] == "database unreachable"
        for response in (api.get(tasks, headers=auth), api.post(tasks, json={"title": "during"}, headers=auth)):
            assert response.status_code == 503, response.text
            assert response.json()["detail"] == "the database is unavailable; try again shortly"
        assert api.get("/healthz").status_code == 200
    finally:
        postgres("pg_start")

    # Pooled connections died with the server; the pool notices and reconnects.
    assert api.get("/readyz").status_code == 200
    assert [t["title"] for t in api.get(tasks, headers=auth).json()] == ["before the outage"]
