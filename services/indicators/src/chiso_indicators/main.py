"""The indicators service: stores facts as versioned observations and serves time series."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chiso_indicators import __version__
from chiso_indicators.db import migrate_async
from chiso_indicators.dhis2.router import router as dhis2_router
from chiso_indicators.metrics import IndicatorsMetrics
from chiso_indicators.observations.router import router as observations_router
from chiso_indicators.quality.router import router as quality_router
from chiso_indicators.quality.rules import RuleBook, load_book
from chiso_indicators.reference import sync_reference_data
from chiso_indicators.reference_router import router as reference_router
from chiso_indicators.sdmx.router import router as sdmx_router
from chiso_indicators.settings import Settings
from chiso_shared.body_limit import BodyLimitMiddleware
from chiso_shared.compression import install_gzip
from chiso_shared.db import create_engine, create_sessionmaker, ping, session_scope
from chiso_shared.db_roles import warn_if_runtime_can_change_schema
from chiso_shared.docs import install_docs
from chiso_shared.errors import install_error_handlers, problem_responses
from chiso_shared.health import health_router
from chiso_shared.heap import freeze_startup_objects
from chiso_shared.input_guard import RefuseNulMiddleware
from chiso_shared.legacy import LegacyRedirectMiddleware
from chiso_shared.logging import configure_logging
from chiso_shared.metrics import install_metrics
from chiso_shared.request_id import RequestIdMiddleware
from chiso_shared.service_auth import ServiceAuth, require_service_token
from chiso_shared.tracing import install_tracing


class State(TypedDict):
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    service_auth: ServiceAuth
    quality_book: RuleBook | None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    holder: dict[str, AsyncEngine] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        configure_logging("indicators", settings.log_level)
        service_auth = settings.service_auth(
            settings.resolved_service_token_secret(), open_reads=settings.open_reads
        )
        url = settings.resolved_database_url()
        if settings.should_migrate_on_start():
            await migrate_async(
                settings.resolved_migration_database_url(), settings.database_runtime_role
            )
        engine = create_engine(url, pool_size=settings.db_pool_size)
        await warn_if_runtime_can_change_schema(engine, settings.env)
        holder["engine"] = engine
        sessionmaker = create_sessionmaker(engine)
        async for session in session_scope(sessionmaker):
            await sync_reference_data(session)
        book = load_book(settings.quality_rules_path) if settings.quality_checks else None
        freeze_startup_objects()
        try:
            yield {
                "settings": settings,
                "engine": engine,
                "sessionmaker": sessionmaker,
                "service_auth": service_auth,
                "quality_book": book,
            }
        finally:
            await engine.dispose()

    app = FastAPI(
        title="chiso indicators",
        version=__version__,
        summary="Versioned indicator observations with provenance, served as time series.",
        lifespan=lifespan,
        docs_url=None,  # served from the package by install_docs, not from a CDN
        redoc_url=None,
    )
    # The NUL guard reads a JSON body whole, so the streaming body limit sits outside it; both
    # sit inside the request-id middleware, so a refusal carries the id.
    app.add_middleware(RefuseNulMiddleware, namespace="indicators")
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_request_bytes, namespace="indicators"
    )
    app.add_middleware(LegacyRedirectMiddleware, namespace="indicators")
    app.add_middleware(RequestIdMiddleware)
    install_gzip(app, settings)  # bulk exports and pages, when the caller accepts gzip
    install_tracing(app, settings, settings.service_name)  # outside all of the above
    install_metrics(app, settings, IndicatorsMetrics())  # outermost: every answer counted
    install_error_handlers(app, "indicators")
    app.include_router(health_router(lambda: {"database": lambda: ping(holder["engine"])}))
    # Every route but the health probes answers only other chiso services (or, for reads,
    # anyone when OPEN_READS is set): outside callers go through the gateway.
    callers = [Depends(require_service_token)]
    refusals = problem_responses(401, 403)
    routers = (reference_router, observations_router, quality_router, sdmx_router, dhis2_router)
    for router in routers:
        app.include_router(router, dependencies=callers, responses=refusals)
    install_docs(app)
    return app
