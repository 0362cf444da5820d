"""Fixtures: a real Postgres database, the JWKS stand-in, the fake LLM and the running app.

Postgres is started by tests/suites/backend.sh (tests/lib/postgres.sh), which
exports TEST_DATABASE_URL pointing at its admin database; each test session
creates its own database there and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from app.core.config import Settings
from app.migrate import upgrade
from tests.servers import FakeLLM, JwksServer, RunningApp


def _admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.exit(
            "TEST_DATABASE_URL is not set: run tests/suites/backend.sh, which starts Postgres, "
            "or export TEST_DATABASE_URL=postgresql://user@127.0.0.1:PORT/postgres",
            returncode=2,
        )
    return url


def database_at(admin_url: str, name: str) -> str:
    parts = urlsplit(admin_url)
    return urlunsplit(("postgresql", parts.netloc, f"/{name}", parts.query, ""))


def sql(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """Run one statement on a fresh asyncpg connection (for setup and assertions)."""

    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return await connection.fetch(query, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


class Databases:
    """Creates uniquely named databases on the test server and drops them at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def create(self, prefix: str) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        sql(self.admin_url, f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return database_at(self.admin_url, name)

    def drop_all(self) -> None:
        for name in self.created:
            sql(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    dbs = Databases(_admin_url())
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def database_url(databases: Databases) -> str:
    """A migrated database shared by the session's tests (tests use distinct user ids)."""
    url = databases.create("taskflow_test")
    upgrade(url.replace("postgresql://", "postgresql+asyncpg://"))
    return url


@pytest.fixture(scope="session")
def jwks() -> Iterator[JwksServer]:
    server = JwksServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_fakes(jwks: JwksServer, llm: FakeLLM) -> None:
    jwks.failing = False
    llm.reset()


def make_settings(database_url: str, jwks: JwksServer, llm: FakeLLM, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "better_auth_url": jwks.url,
        "openai_api_key": "sk-test-not-a-real-key",
        "openai_base_url": llm.base_url,
        "openai_model": "fake-model",
        "chat_timeout_seconds": 5,
        "drain_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def running_app(database_url: str, jwks: JwksServer, llm: FakeLLM) -> Iterator[RunningApp]:
    app = RunningApp(make_settings(database_url, jwks, llm)).start()
    yield app
    app.stop()


@pytest.fixture
def api(running_app: RunningApp) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=running_app.url, timeout=30) as client:
        yield client


@pytest.fixture
def user_id() -> str:
    """A fresh Better Auth-like user id per test, so tests never see each other's tasks."""
    return uuid.uuid4().hex


@pytest.fixture
def auth(jwks: JwksServer, user_id: str) -> dict[str, str]:
    return jwks.auth(user_id)
