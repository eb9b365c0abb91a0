"""The ingest service: accepts documents, extracts facts, delivers them to indicators."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chiso_ingest import __version__
from chiso_ingest.db import migrate_async
from chiso_ingest.documents.router import router as documents_router
from chiso_ingest.documents.sentences import router as sentences_router
from chiso_ingest.formats import ReaderSandbox, Sandbox
from chiso_ingest.metrics import IngestMetrics
from chiso_ingest.reviews.router import router as reviews_router
from chiso_ingest.settings import (
    Settings,
    extraction_limits_of,
    request_limit_of,
    sandbox_limits_of,
)
from chiso_ingest.worker import Worker
from chiso_shared.body_limit import BodyLimitMiddleware
from chiso_shared.compression import install_gzip
from chiso_shared.db import create_engine, create_sessionmaker, ping
from chiso_shared.db_roles import warn_if_runtime_can_change_schema
from chiso_shared.docs import install_docs
from chiso_shared.errors import install_error_handlers, problem_responses
from chiso_shared.health import health_router
from chiso_shared.heap import freeze_startup_objects
from chiso_shared.http import create_http_client
from chiso_shared.input_guard import RefuseNulMiddleware
from chiso_shared.logging import configure_logging
from chiso_shared.metrics import install_metrics
from chiso_shared.request_id import RequestIdMiddleware
from chiso_shared.service_auth import (
    WRITE,
    ServiceAuth,
    ServiceTokenAuth,
    require_service_token,
)
from chiso_shared.tracing import install_tracing


class State(TypedDict):
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    readers: ReaderSandbox
    service_auth: ServiceAuth


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    live: dict[str, object] = {}
    metrics = IngestMetrics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        configure_logging("ingest", settings.log_level)
        secret = settings.resolved_service_token_secret()
        service_auth = settings.service_auth(secret, open_reads=settings.open_reads)
        url = settings.resolved_database_url()
        if settings.should_migrate_on_start():
            await migrate_async(
                settings.resolved_migration_database_url(), settings.database_runtime_role
            )
        engine = create_engine(url, pool_size=settings.db_pool_size)
        await warn_if_runtime_can_change_schema(engine, settings.env)
        sessionmaker = create_sessionmaker(engine)
        # Ingest only delivers facts to indicators: its token carries `write` alone.
        tokens = ServiceTokenAuth(settings.service_tokens(secret), "indicators", [WRITE])
        client = create_http_client(settings.http, base_url=settings.indicators_url, auth=tokens)
        tracing.instrument_httpx(client)
        live.update(engine=engine, http=client)
        readers = ReaderSandbox(sandbox_limits_of(settings))
        await asyncio.to_thread(readers.warm_up)
        task = None
        extractor = Sandbox(extraction_limits_of(settings))
        worker = Worker(sessionmaker, client, settings, extractor, metrics, tracing)
        metrics.watch_queue(sessionmaker)
        if settings.run_worker:
            task = asyncio.create_task(worker.run())
        freeze_startup_objects()
        try:
            yield {
                "settings": settings,
                "engine": engine,
                "sessionmaker": sessionmaker,
                "http": client,
                "readers": readers,
                "service_auth": service_auth,
            }
        finally:
            if task is not None:
                # Let the current step end (cancelling mid-query can leak its connection);
                # a step that outlasts the grace period is cancelled and its lease expires.
                worker.stop()
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, settings.shutdown_grace_seconds)
            await client.aclose()
            await engine.dispose()

    async def indicators_ready() -> None:
        client = live["http"]
        assert isinstance(client, httpx.AsyncClient)
        (await client.get("/healthz")).raise_for_status()

    async def database_ready() -> None:
        engine = live["engine"]
        assert isinstance(engine, AsyncEngine)
        await ping(engine)

    app = FastAPI(
        title="chiso ingest",
        version=__version__,
        summary="Accepts provincial reports, extracts their facts and delivers them.",
        lifespan=lifespan,
        docs_url=None,  # served from the package by install_docs, not from a CDN
        redoc_url=None,
    )
    # The NUL guard reads a JSON body whole, so the streaming body limit sits outside it; both
    # sit inside the request-id middleware, so a refusal carries the id.
    app.add_middleware(RefuseNulMiddleware, namespace="ingest")
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=request_limit_of(settings), namespace="ingest"
    )
    app.add_middleware(RequestIdMiddleware)
    install_gzip(app, settings)
    tracing = install_tracing(app, settings, settings.service_name)  # outside all of the above
    install_metrics(app, settings, metrics)  # outermost: every answer counted and timed
    install_error_handlers(app, "ingest")
    # Ready with its database alone: while indicators is away uploads are still accepted and
    # queued (delivery retries), so indicators is reported, not required.
    app.include_router(
        health_router(
            lambda: {"database": database_ready}, lambda: {"indicators": indicators_ready}
        )
    )
    # Uploads, re-extraction and document reads answer only other chiso services (reads also
    # anyone when OPEN_READS is set): outside callers go through the gateway.
    for router in (documents_router, sentences_router, reviews_router):
        app.include_router(
            router,
            dependencies=[Depends(require_service_token)],
            responses=problem_responses(401, 403),
        )
    install_docs(app)
    return app
