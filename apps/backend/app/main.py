"""The FastAPI application: `create_app(settings)` wires config, DB, auth and routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app.api.routes import chat, health, tasks
from app.core.config import Settings, load_settings
from app.core.metrics import Metrics, MetricsMiddleware
from app.core.security import AuthError, AuthUnavailable, JwksCache, TokenVerifier
from app.db import DATABASE_UNAVAILABLE, create_engine, create_sessionmaker
from app.mcp_server import McpEndpoint, create_session_manager
from app.migrate import head_revision, known_revisions

log = logging.getLogger(__name__)

# Far above any valid request (a task or a chat message is a few KiB of JSON),
# low enough that oversized bodies are refused before they are read into memory.
MAX_BODY_BYTES = 256 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    metrics = Metrics()
    mcp_sessions = create_session_manager()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        metrics.watch_engine(engine)
        async with httpx.AsyncClient() as http:
            app.state.engine = engine
            app.state.sessionmaker = create_sessionmaker(engine)
            app.state.http = http
            app.state.verifier = TokenVerifier(
                JwksCache(settings.jwks_url, http), issuer=settings.jwt_issuer, audience=settings.jwt_audience
            )
            try:
                async with mcp_sessions.run():
                    yield
            finally:
                metrics.watch_engine(None)
                await engine.dispose()

    app = FastAPI(title="TaskFlow API", version="0.1.0", lifespan=lifespan, max_body_size=MAX_BODY_BYTES)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.migration_head = head_revision()
    app.state.known_revisions = known_revisions()
    # Set by the server on SIGTERM (app.__main__); /readyz then answers 503.
    app.state.draining = False

    app.include_router(health.router)
    app.include_router(tasks.router)
    app.include_router(chat.router)
    app.router.add_route("/mcp", McpEndpoint(mcp_sessions), methods=["GET", "POST", "DELETE"], include_in_schema=False)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    _install_error_handlers(app)
    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def unauthenticated(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": str(error)}, status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )

    async def auth_unavailable(request: Request, error: Exception) -> JSONResponse:
        log.warning("auth keys unavailable", extra={"error": str(error)})
        return JSONResponse({"detail": f"authentication is unavailable: {error}"}, status_code=503)

    async def database_unavailable(request: Request, error: Exception) -> JSONResponse:
        log.warning("database unavailable", extra={"path": request.url.path, "error": str(error) or repr(error)})
        return JSONResponse(
            {"detail": "the database is unavailable; try again shortly"},
            status_code=503,
            headers={"Retry-After": "5"},
        )

    app.add_exception_handler(AuthError, unauthenticated)
    app.add_exception_handler(AuthUnavailable, auth_unavailable)
    for kind in DATABASE_UNAVAILABLE:
        app.add_exception_handler(kind, database_unavailable)
