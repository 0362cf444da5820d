"""Probes for Kubernetes and the Prometheus scrape endpoint."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.db import DATABASE_UNAVAILABLE
from app.migrate import database_revision

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)

READINESS_TIMEOUT_SECONDS = 3


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive and serving; says nothing about the database."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready for traffic: not draining, database reachable, schema at or beyond the code's migration head."""
    state = request.app.state
    if state.draining:
        return _unready("draining: the server is shutting down")
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS), state.engine.connect() as connection:
            revision = await database_revision(connection)
    except DATABASE_UNAVAILABLE as error:
        log.warning("readiness: database unreachable", extra={"error": str(error) or type(error).__name__})
        return _unready("database unreachable")
    # A revision this code does not know is newer: a rolling update's new release migrated
    # (expand-only) before its pods came up, and the old pods must stay ready meanwhile.
    behind = revision is None or (revision != state.migration_head and revision in state.known_revisions)
    if behind:
        return _unready(
            f"database schema is at {revision or 'nothing'}, code expects {state.migration_head}: "
            "run python -m app.migrate"
        )
    return JSONResponse({"status": "ready", "migration": revision})


def _unready(detail: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "detail": detail}, status_code=503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
