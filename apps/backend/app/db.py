"""The async database engine (SQLAlchemy 2 + asyncpg) and the per-request session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import sqlalchemy.exc
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

# Connection attempts and queries give up quickly, so a dead database turns
# into a prompt 503 instead of requests hanging until the client gives up.
CONNECT_TIMEOUT_SECONDS = 5
POOL_TIMEOUT_SECONDS = 5

# What a request may raise when Postgres is down, restarting or unreachable.
# They are answered with 503 (see app.main), never with a crash.
DATABASE_UNAVAILABLE = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,
    OSError,
    TimeoutError,
)


def create_engine(database_url: str) -> AsyncEngine:
    return create_async_engine(
        database_url,
        pool_size=5,
        max_overflow=5,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        # A pooled connection may have died with a Postgres restart; check before use.
        pool_pre_ping=True,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS, "command_timeout": 30},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """FastAPI dependency: one session per request, from the app's engine."""
    async with request.app.state.sessionmaker() as session:
        yield session
