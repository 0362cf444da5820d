"""Prometheus metrics: request counts and latency per route, and the DB pool.

Each app instance has its own registry, so several apps in one process (as
in the tests) do not collide. Requests are also logged here, once, as JSON.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("app.access")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "taskflow_http_requests_total",
            "HTTP requests served, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "taskflow_http_request_duration_seconds",
            "Time from request start to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "taskflow_http_requests_in_flight", "HTTP requests being served now.", registry=self.registry
        )
        self._pool = PoolCollector()
        self.registry.register(self._pool)

    def watch_engine(self, engine: AsyncEngine | None) -> None:
        self._pool.engine = engine


class PoolCollector(Collector):
    """Reads the SQLAlchemy pool's counters at scrape time."""

    def __init__(self) -> None:
        self.engine: AsyncEngine | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily("taskflow_db_pool_size", "Configured size of the database connection pool.")
        connections = GaugeMetricFamily(
            "taskflow_db_pool_connections", "Database connections by state.", labels=["state"]
        )
        if self.engine is not None:
            pool = self.engine.pool
            size.add_metric([], pool.size())  # type: ignore[attr-defined]
            connections.add_metric(["checked_out"], pool.checkedout())  # type: ignore[attr-defined]
            connections.add_metric(["idle"], pool.checkedin())  # type: ignore[attr-defined]
            connections.add_metric(["overflow"], max(pool.overflow(), 0))  # type: ignore[attr-defined]
        yield size
        yield connections


class MetricsMiddleware:
    """Pure ASGI middleware (no response buffering, so MCP streams pass through)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_and_record)
        finally:
            self.metrics.in_flight.dec()
            elapsed = time.perf_counter() - start
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )


def _route_template(scope: Scope) -> str:
    # The matched route's template (/api/{user_id}/tasks), never the raw path:
    # user ids and task ids in labels would grow without bound.
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    # Plain Starlette routes (/mcp) leave no "route" in the scope, only the matched
    # endpoint; without path parameters, the path is the template.
    if "endpoint" in scope and not scope.get("path_params"):
        return str(scope["path"])
    return "unmatched"
