"""Prometheus metrics: one registry per app, the HTTP metrics every service has, `/metrics`.

Each app gets its own `CollectorRegistry` (tests build many apps in one process, and the
global registry would refuse a second metric of a name). A service subclasses `Metrics` to
add its own metrics, builds one in `create_app` and hands it to `install_metrics`, which

- counts every request by method, route template and status, with a latency histogram
  (`MetricsMiddleware`, outermost, so every answer is counted, refusals included);
- serves the registry at `METRICS_PATH` on the app's port, ahead of every other middleware
  (so the gateway neither authenticates, meters, audits nor forwards it), or, when
  `METRICS_PORT` is set, only on a listener of its own on that port;
- puts the metrics object in the lifespan state (`request.state.metrics`).

Labels stay bounded: the route is the matched route's path template (`/v1/documents/{id}`),
never the path itself, and `<unmatched>` when no route matched; an unknown method is `OTHER`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI, Request
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    make_asgi_app,
)
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("chiso.metrics")

UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Seconds: from a cached gateway read (about a millisecond) to a large import or export.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# How long a scrape may spend refreshing the gauges it computes from a database.
REFRESH_TIMEOUT_SECONDS = 2.0

Refresh = Callable[[], Awaitable[None]]


class MetricsSettings(Protocol):
    metrics_enabled: bool
    metrics_path: str
    metrics_port: int
    metrics_host: str


class Metrics:
    """An app's registry, its HTTP metrics, and what to refresh before each scrape."""

    def __init__(self, service: str, version: str = "") -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.refreshers: list[Refresh] = []
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        # process_*: the process's CPU seconds, resident memory, open files (on Linux).
        ProcessCollector(registry=self.registry)
        self.http_requests = Counter(
            "chiso_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "chiso_http_request_duration_seconds",
            "Time from a request's arrival to its answer's last byte, by route template.",
            ["service", "method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.refresh_errors = Counter(
            "chiso_metrics_refresh_errors",
            "Scrapes whose database-derived gauges could not be refreshed (they keep their "
            "previous values).",
            ["service"],
            registry=self.registry,
        )
        build = Gauge(
            "chiso_build_info",
            "Always 1; the service and its version as labels.",
            ["service", "version"],
            registry=self.registry,
        )
        build.labels(service, version).set(1)
        self.refresh_errors.labels(service)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "OTHER"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            # `labels()` takes a lock and builds its key on every call; the children of a
            # label set are looked up once (the keys are as bounded as the labels).
            children = (
                self.http_requests.labels(self.service, method, route, str(status)),
                self.http_duration.labels(self.service, method, route),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def on_scrape(self, refresh: Refresh) -> None:
        """Run `refresh` before each scrape (bounded by `REFRESH_TIMEOUT_SECONDS`)."""
        self.refreshers.append(refresh)

    async def refresh(self) -> None:
        for refresh in self.refreshers:
            try:
                await asyncio.wait_for(refresh(), REFRESH_TIMEOUT_SECONDS)
            except Exception:  # a scrape still answers, with the last values it had
                logger.warning("metrics refresh failed", exc_info=True)
                self.refresh_errors.labels(self.service).inc()

    def asgi(self) -> ASGIApp:
        """The exposition: prometheus_client's own (text or OpenMetrics, gzip when asked)."""
        exposition = make_asgi_app(self.registry)

        async def serve(scope: Scope, receive: Receive, send: Send) -> None:
            await self.refresh()
            await exposition(scope, receive, send)

        return serve


def route_template(scope: Scope) -> str:
    """The matched route's path template; routing (or the gateway's fast series read) puts
    the route in the scope."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class MetricsMiddleware:
    """Counts and times every HTTP request; answers `path` with the metrics when given."""

    def __init__(self, app: ASGIApp, metrics: Metrics, path: str | None) -> None:
        self.app = app
        self.metrics = metrics
        self.path = path
        self.exposition = metrics.asgi()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.path is not None and scope["path"] == self.path:
            await self.exposition(scope, receive, send)  # not counted: scrapes are no traffic
            return
        started = time.perf_counter()
        status = 500  # the app failed before it answered: the server answers 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], route_template(scope), status, elapsed)


def metrics_of(request: Request) -> Any:
    """The app's metrics object from the lifespan state (a service casts it to its class)."""
    return request.state.metrics


def install_metrics(app: FastAPI, settings: MetricsSettings, metrics: Metrics) -> None:
    """Count the app's requests and serve its metrics as the settings say; call it after
    every other `add_middleware`, so its middleware is the outermost."""
    own_port = settings.metrics_port > 0
    if settings.metrics_enabled:
        path = None if own_port else settings.metrics_path
        app.add_middleware(MetricsMiddleware, metrics=metrics, path=path)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Mapping[str, Any]]:
        async with inner(app_) as state:
            listener = None
            if settings.metrics_enabled and own_port:
                listener = await MetricsListener.start(metrics, settings)
            try:
                yield {**(state or {}), "metrics": metrics}
            finally:
                if listener is not None:
                    await listener.stop()

    app.router.lifespan_context = lifespan


class MetricsListener:
    """The metrics on a port of their own (`METRICS_PORT`): a second uvicorn server in the
    app's event loop, so a scrape refreshes its gauges with the app's database engine. It
    answers `METRICS_PATH` and 404 elsewhere, and installs no signal handlers (the app's
    server owns them; the app's lifespan stops this one)."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self.server = server
        self.task = task

    @classmethod
    async def start(cls, metrics: Metrics, settings: MetricsSettings) -> MetricsListener:
        exposition = metrics.asgi()
        not_found = PlainTextResponse("Not Found", status_code=404)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] == settings.metrics_path:
                await exposition(scope, receive, send)
            elif scope["type"] == "http":
                await not_found(scope, receive, send)

        config = uvicorn.Config(
            app,
            host=settings.metrics_host,
            port=settings.metrics_port,
            lifespan="off",
            log_config=None,
            access_log=False,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        try:
            await server.startup()
        except SystemExit as exc:  # uvicorn exits when it cannot bind; say what failed
            raise RuntimeError(
                f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}"
            ) from exc
        logger.info(
            "metrics listening",
            extra={"host": settings.metrics_host, "port": settings.metrics_port},
        )
        return cls(server, asyncio.create_task(server.main_loop()))

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task
        await self.server.shutdown()
