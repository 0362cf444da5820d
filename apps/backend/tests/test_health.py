"""Probes, metrics, and behaviour when the database is down or not migrated."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Databases, make_settings, sql
from tests.servers import FakeLLM, JwksServer, RunningApp


def test_healthz(api: httpx.Client) -> None:
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_migrated(api: httpx.Client) -> None:
    response = api.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "migration": "0001"}


def test_metrics(api: httpx.Client, user_id: str, auth: dict[str, str]) -> None:
    api.get(f"/api/{user_id}/tasks", headers=auth)
    api.get(f"/api/{user_id}/tasks")
    text = api.get("/metrics").text
    assert 'taskflow_http_requests_total{method="GET",route="/api/{user_id}/tasks",status="200"}' in text
    assert 'taskflow_http_requests_total{method="GET",route="/api/{user_id}/tasks",status="401"}' in text
    assert 'taskflow_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/{user_id}/tasks"}' in text
    assert "taskflow_db_pool_size 5.0" in text
    assert 'taskflow_db_pool_connections{state="checked_out"}' in text
    # Raw paths never become labels: ids would make the series grow without bound.
    assert user_id not in text
    api.get("/no/such/path")
    assert 'route="unmatched",status="404"' in api.get("/metrics").text


@pytest.fixture
def dead_database_app(jwks: JwksServer, llm: FakeLLM) -> Iterator[RunningApp]:
    # Port 9 (discard) on loopback: nothing listens, connections are refused.
    app = RunningApp(make_settings("postgresql://postgres@127.0.0.1:9/taskflow", jwks, llm)).start()
    yield app
    app.stop()


def test_database_down_is_503_not_a_crash(dead_database_app: RunningApp, user_id: str, auth: dict[str, str]) -> None:
    with httpx.Client(base_url=dead_database_app.url, timeout=30) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "detail": "database unreachable"}
        for response in (
            client.get(f"/api/{user_id}/tasks", headers=auth),
            client.post(f"/api/{user_id}/tasks", json={"title": "x"}, headers=auth),
            client.post(f"/api/{user_id}/chat", json={"message": "x"}, headers=auth),
        ):
            assert response.status_code == 503, response.text
            assert response.json() == {"detail": "the database is unavailable; try again shortly"}
            assert response.headers["retry-after"] == "5"
        # Auth is still checked first, and the process is still serving.
        assert client.get(f"/api/{user_id}/tasks").status_code == 401
        assert client.get("/healthz").status_code == 200


def test_readyz_until_migrated(databases: Databases, jwks: JwksServer, llm: FakeLLM) -> None:
    from app.migrate import upgrade

    url = databases.create("taskflow_unmigrated")
    app = RunningApp(make_settings(url, jwks, llm)).start()
    try:
        with httpx.Client(base_url=app.url, timeout=30) as client:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json()["detail"] == (
                "database schema is at nothing, code expects 0001: run python -m app.migrate"
            )
            upgrade(url.replace("postgresql://", "postgresql+asyncpg://"))
            assert client.get("/readyz").status_code == 200
            # A newer release migrated ahead of this one during a rolling update: the old
            # pods stay ready (migrations are expand-only), or the update would drop traffic.
            sql(url, "UPDATE alembic_version SET version_num = 'ffffnewer'")
            assert client.get("/readyz").status_code == 200
    finally:
        app.stop()
