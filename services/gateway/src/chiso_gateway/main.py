"""The gateway: the one door for outside systems (OAuth2, envelopes, forwarding)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict, cast

from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from chiso_gateway import __version__
from chiso_gateway.audit import AuditWriter
from chiso_gateway.audit_journal import AuditJournal
from chiso_gateway.auth.admin import router as admin_router
from chiso_gateway.auth.clients import ActiveClients
from chiso_gateway.auth.external import ExternalIssuers
from chiso_gateway.auth.keys import KeyRing
from chiso_gateway.auth.router import router as auth_router
from chiso_gateway.auth.tokens import Verifier
from chiso_gateway.auth.well_known import router as well_known_router
from chiso_gateway.body_limit import gateway_limits
from chiso_gateway.cache import Cache, MemoryCache, RedisCache, RevisionTracker
from chiso_gateway.db import migrate_async
from chiso_gateway.deps import Reads
from chiso_gateway.fast_reads import FastSeriesRead
from chiso_gateway.metrics import GatewayMetrics
from chiso_gateway.middleware import GatewayMiddleware
from chiso_gateway.quota import Counter, MemoryCounter, Quotas, RedisCounter, TokenLimits
from chiso_gateway.redis_guard import Breaker
from chiso_gateway.settings import Settings
from chiso_gateway.upstream import Upstream, service_credentials
from chiso_gateway.views.app_config import router as app_config_router
from chiso_gateway.views.areas import router as areas_router
from chiso_gateway.views.audit import router as audit_router
from chiso_gateway.views.catalog import router as catalog_router
from chiso_gateway.views.dhis2 import router as dhis2_router
from chiso_gateway.views.documents import router as documents_router
from chiso_gateway.views.indicators import router as indicators_router
from chiso_gateway.views.insights import router as insights_router
from chiso_gateway.views.me import router as me_router
from chiso_gateway.views.quality import router as quality_router
from chiso_gateway.views.reviews import router as reviews_router
from chiso_gateway.views.sdmx import router as sdmx_router
from chiso_gateway.views.trace import router as trace_router
from chiso_gateway.web import router as web
from chiso_shared.body_limit import BodyLimitMiddleware
from chiso_shared.compression import install_gzip
from chiso_shared.db import create_engine, create_sessionmaker, ping
from chiso_shared.db_roles import warn_if_runtime_can_change_schema
from chiso_shared.docs import install_docs
from chiso_shared.errors import install_error_handlers
from chiso_shared.health import Check, health_router
from chiso_shared.heap import freeze_startup_objects
from chiso_shared.input_guard import RefuseNulMiddleware
from chiso_shared.legacy import LegacyRedirectMiddleware
from chiso_shared.logging import configure_logging
from chiso_shared.metrics import install_metrics
from chiso_shared.request_id import RequestIdMiddleware
from chiso_shared.service_auth import READ, WRITE
from chiso_shared.tracing import install_tracing

CORS_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
# What a web app sends beyond the CORS-safelisted headers: the token, the caller's audit
# fields, a request id to trace, If-None-Match to revalidate a cached read, and the W3C trace
# context of a web app that traces itself (OpenTelemetry's browser instrumentation sends it).
CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept-Language",
    "If-None-Match",
    "X-Request-Id",
    "X-User-Id",
    "X-Purpose",
    "traceparent",
    "tracestate",
)
# What a web app must read of an answer: paging (Link, X-Next-Cursor), the request id to
# quote, caching (ETag), the quota and when to come back (Retry-After), a stale answer and its
# age, which upstream failed, and a download's file name.
CORS_EXPOSED_HEADERS = (
    "Link",
    "X-Next-Cursor",
    "X-Total-Count",
    "Deprecation",
    "Location",
    "X-Request-Id",
    "ETag",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-Cache",
    "X-Chiso-Stale",
    "Age",
    "X-Gateway-Error",
    "Content-Disposition",
    "Content-Language",
    "WWW-Authenticate",
)


class State(TypedDict):
    settings: Settings
    signing_key: str | None
    key_ring: KeyRing | None
    tokens: Verifier
    clients: ActiveClients
    token_limits: TokenLimits
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    ingest: Upstream
    indicators: Upstream
    quotas: Quotas
    cache: Cache | None
    revision: RevisionTracker
    reads: Reads
    audit: AuditWriter | None


def _redis(settings: Settings) -> Redis | None:
    if not settings.redis_url:
        return None
    timeout = settings.redis_timeout_seconds
    return Redis.from_url(
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )


def _counter(redis: Redis | None, settings: Settings, breaker: Breaker) -> Counter:
    return RedisCounter(redis, settings.redis_prefix, breaker) if redis else MemoryCounter()


def _cache(redis: Redis | None, settings: Settings, breaker: Breaker) -> Cache | None:
    if settings.cache_ttl_seconds == 0:
        return None
    if redis is not None:
        return RedisCache(redis, settings.redis_prefix, breaker)
    return MemoryCache(settings.cache_max_entries)


async def _redis_ready(redis: Redis, settings: Settings) -> None:
    """Redis answers a PING. When it does not, the report says what that costs meanwhile, by
    the fail-open settings: uncounted requests, or refused ones (503)."""
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        quotas = "not counted" if settings.quota_fail_open else "refused (QUOTA_FAIL_OPEN=false)"
        tokens = (
            "uncounted"
            if settings.token_limit_fail_open
            else "refused (TOKEN_LIMIT_FAIL_OPEN=false)"
        )
        raise RuntimeError(
            f"{exc!r}; cache off, API requests {quotas}, token requests {tokens}"
        ) from exc


# Names the gateway used before chiso said `area` everywhere: answered for one release with
# a redirect to the current form (chiso_shared.legacy).
LEGACY_PARAMETERS = {"org_unit": "area", "org_units": "areas"}
LEGACY_PATHS = {"/v1/org-units": "/v1/areas"}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    live: dict[str, object] = {}
    metrics = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[State]:
        configure_logging("gateway", settings.log_level)
        # HS256 only for compatibility (JWT_ALGORITHM=HS256 signs with it; else its old
        # tokens are accepted while JWT_SECRET is set); the key ring signs otherwise.
        signing_key = settings.compat_secret()
        key_ring = settings.key_ring()
        external = (
            ExternalIssuers(
                settings.external_issuers,
                ttl=settings.external_jwks_ttl_seconds,
                min_refresh=settings.external_jwks_min_refresh_seconds,
                timeout=settings.external_jwks_timeout_seconds,
            )
            if settings.external_issuers
            else None
        )
        url = settings.resolved_database_url()
        if settings.should_migrate_on_start():
            await migrate_async(
                settings.resolved_migration_database_url(), settings.database_runtime_role
            )
        engine = create_engine(url, pool_size=settings.db_pool_size)
        await warn_if_runtime_can_change_schema(engine, settings.env)
        tokens = settings.service_tokens(settings.resolved_service_token_secret())
        ingest = Upstream(
            "ingest",
            settings.ingest_url,
            settings,
            service_credentials(tokens, "ingest", (READ, WRITE)),
            metrics=metrics,
            tracing=tracing,
        )
        indicators = Upstream(
            "indicators",
            settings.indicators_url,
            settings,
            service_credentials(tokens, "indicators", (READ,)),
            # the one write: a reviewer's resolution of a data-quality flag
            write_credentials=service_credentials(tokens, "indicators", (READ, WRITE)),
            metrics=metrics,
            tracing=tracing,
        )
        live.update(engine=engine, ingest=ingest, indicators=indicators)
        redis = _redis(settings)
        live["redis"] = redis
        breaker = Breaker(settings.redis_cooldown_seconds)  # one Redis, one breaker
        sessionmaker = create_sessionmaker(engine)
        cache = _cache(redis, settings, breaker)
        revision = RevisionTracker(indicators, settings.revision_check_seconds)
        audit: AuditWriter | None = None
        if settings.audit_enabled:
            journal = settings.resolved_audit_journal_dir()
            audit = AuditWriter(
                engine,
                queue_size=settings.audit_queue_size,
                batch_size=settings.audit_batch_size,
                batch_wait=settings.audit_batch_wait_seconds,
                journal=AuditJournal(journal) if journal else None,
                anchor_every=settings.audit_anchor_seconds,
            )
            await audit.start()
        freeze_startup_objects()
        try:
            yield {
                "settings": settings,
                "signing_key": signing_key,
                "key_ring": key_ring,
                "tokens": Verifier(
                    key=signing_key,
                    issuer=settings.accepted_issuers(),
                    max_entries=settings.token_cache_entries,
                    ring=key_ring,
                    external=external,
                ),
                "clients": ActiveClients(sessionmaker, settings.client_check_seconds),
                "token_limits": TokenLimits(
                    _counter(redis, settings, breaker),
                    per_client=settings.token_limit_per_client,
                    per_address=settings.token_limit_per_address,
                    window_seconds=settings.token_limit_window_seconds,
                    sliding=settings.quota_sliding_window,
                    fail_open=settings.token_limit_fail_open,
                ),
                "engine": engine,
                "sessionmaker": sessionmaker,
                "ingest": ingest,
                "indicators": indicators,
                "quotas": Quotas(
                    _counter(redis, settings, breaker),
                    settings.quota_tiers,
                    settings.quota_window_seconds,
                    sliding=settings.quota_sliding_window,
                    fail_open=settings.quota_fail_open,
                ),
                "cache": cache,
                "revision": revision,
                "reads": Reads(settings, indicators, cache, revision),
                "audit": audit,
            }
        finally:
            if audit is not None:
                # Requests are over: write every queued row before the engine goes.
                await audit.aclose(settings.audit_drain_seconds)
            await ingest.aclose()
            await indicators.aclose()
            if external is not None:
                await external.aclose()
            if redis is not None:
                await redis.aclose()
            await engine.dispose()

    def checks() -> dict[str, Check]:
        return {"database": lambda: ping(cast(AsyncEngine, live["engine"]))}

    def reported() -> dict[str, Check]:
        # Upstreams and Redis are shared by every replica: when one is down, taking this
        # replica out of service would help no caller (cached reads are still served, stale
        # if need be; tokens, the web app and uploads' refusals still answer).
        found: dict[str, Check] = {
            "ingest": cast(Upstream, live["ingest"]).ready,
            "indicators": cast(Upstream, live["indicators"]).ready,
        }
        redis = live.get("redis")
        if isinstance(redis, Redis):
            found["redis"] = lambda: _redis_ready(redis, settings)
        return found

    app = FastAPI(
        title="chiso gateway",
        version=__version__,
        summary="LGSP-style integration API for chiso's provincial ICT indicators.",
        lifespan=lifespan,
        docs_url=None,  # served from the package by install_docs, not from a CDN
        redoc_url=None,
    )
    if settings.fast_reads:
        app.add_middleware(FastSeriesRead)  # inside the audit: its answers are audited too
    # The NUL guard reads a JSON body whole, so the streaming body limit sits outside it and
    # bounds what it reads; both sit inside the audit and the request id, so their refusals
    # (400, 413) are audited and traced like any answer, and reach no route or upstream.
    app.add_middleware(RefuseNulMiddleware, namespace="gateway")
    app.add_middleware(BodyLimitMiddleware, max_bytes=gateway_limits(settings), namespace="gateway")
    app.add_middleware(GatewayMiddleware)
    app.add_middleware(
        LegacyRedirectMiddleware,
        namespace="gateway",
        parameters=LEGACY_PARAMETERS,
        paths=LEGACY_PATHS,
    )
    app.add_middleware(RequestIdMiddleware)
    if origins := settings.cors_origins():
        # Outside the request id, quota and audit layers, so the headers browsers need are on
        # every answer, refusals included (a web app must read a 401 or 429 to act on it);
        # a preflight is answered here and reaches no route.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=CORS_METHODS,
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=settings.cors_max_age_seconds,
        )
    install_gzip(app, settings)  # around every answer the gateway makes, problems included
    if settings.forwarded_allow_ips:
        # Outermost, so everything inside sees the caller's address. Here rather than in
        # `chiso serve`, so the gateway's own setting holds under any ASGI server.
        trusted = [host.strip() for host in settings.forwarded_allow_ips.split(",")]
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    tracing = install_tracing(app, settings, settings.service_name)  # outside all of the above
    install_metrics(app, settings, metrics)  # outermost: every answer counted and timed
    install_error_handlers(app, "gateway")
    # Routes are matched in order: the busiest (indicator reads) first. No two routers share
    # a path, so the order changes nothing else.
    app.include_router(indicators_router)
    app.include_router(health_router(checks, reported))
    app.include_router(auth_router)
    app.include_router(well_known_router)
    app.include_router(admin_router)
    app.include_router(me_router)
    app.include_router(documents_router)
    app.include_router(reviews_router)
    app.include_router(catalog_router)
    app.include_router(areas_router)
    app.include_router(insights_router)
    app.include_router(trace_router)
    app.include_router(quality_router)
    app.include_router(sdmx_router)
    app.include_router(dhis2_router)
    app.include_router(audit_router)
    app.include_router(app_config_router)
    install_docs(app)
    web.install(app)  # `/` and `/app/...`: the web app, last (its paths are no API's)
    return app
