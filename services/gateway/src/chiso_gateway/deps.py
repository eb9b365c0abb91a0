"""Request dependencies: settings, session, upstreams and the authenticated principal."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, cast

import jwt
from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_gateway.auth.clients import ActiveClients
from chiso_gateway.auth.external import IssuerUnavailable
from chiso_gateway.auth.tokens import Principal, Verifier
from chiso_gateway.cache import Cache, RevisionTracker
from chiso_gateway.metrics import gateway_metrics
from chiso_gateway.quota import Quotas
from chiso_gateway.settings import Settings
from chiso_gateway.upstream import Upstream
from chiso_shared.db import session_scope
from chiso_shared.errors import (
    ChisoError,
    Forbidden,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)


async def get_settings(request: Request) -> Settings:
    return cast(Settings, request.state.settings)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessionmaker = cast(async_sessionmaker[AsyncSession], request.state.sessionmaker)
    async for session in session_scope(sessionmaker):
        yield session


async def get_ingest(request: Request) -> Upstream:
    return cast(Upstream, request.state.ingest)


async def get_indicators(request: Request) -> Upstream:
    return cast(Upstream, request.state.indicators)


async def get_cache(request: Request) -> Cache | None:
    return cast(Cache | None, request.state.cache)


async def get_revision(request: Request) -> RevisionTracker:
    return cast(RevisionTracker, request.state.revision)


@dataclass(frozen=True)
class Reads:
    """What the cached read routes need, as one dependency rather than four."""

    settings: Settings
    indicators: Upstream
    cache: Cache | None
    revision: RevisionTracker


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the session commits when the route returns, before the response is sent;
# FastAPI's default ("request") commits after it, so a caller could be told 2xx for a write
# that then failed to commit, or read the old state right after a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
IngestDep = Annotated[Upstream, Depends(get_ingest)]
IndicatorsDep = Annotated[Upstream, Depends(get_indicators)]
CacheDep = Annotated[Cache | None, Depends(get_cache)]
RevisionDep = Annotated[RevisionTracker, Depends(get_revision)]


def _challenge(error: str, description: str) -> dict[str, str]:
    return {
        "WWW-Authenticate": f'Bearer realm="chiso", error="{error}", '
        f'error_description="{description}"'
    }


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header (as `HTTPBearer` reads it)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    return token if scheme.lower() == "bearer" and token else None


async def authenticate(request: Request, token: str | None) -> Principal:
    """The caller's principal from its Bearer token, counted against its quota."""
    if token is None:
        raise Unauthorized(
            "A Bearer access token is required.",
            code="gateway.token_missing",
            headers={"WWW-Authenticate": 'Bearer realm="chiso"'},
        )
    state = request.state
    try:
        principal = await cast(Verifier, state.tokens).averify(token)
    except IssuerUnavailable as exc:
        raise ServiceUnavailable(
            "The identity provider of this access token cannot be reached to check it.",
            code="gateway.issuer_unavailable",
            headers={"Retry-After": "30"},
        ) from exc
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized(
            "The access token has expired.",
            code="gateway.token_expired",
            headers=_challenge("invalid_token", "expired"),
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(
            "The access token is not valid.",
            code="gateway.token_invalid",
            headers=_challenge("invalid_token", "invalid"),
        ) from exc
    if principal.external:
        # An external IdP's token: that IdP revokes its clients; chiso holds no row of them.
        request.state.principal = principal
        await _count(request, principal)
        return principal
    active = cast(ActiveClients, state.clients)
    if not await active.is_active(principal.client_id):
        raise Unauthorized(
            "The client of this access token has been revoked.",
            code="gateway.client_revoked",
            headers=_challenge("invalid_token", "revoked"),
        )
    if await active.is_token_revoked(principal.token_id):
        raise Unauthorized(
            "This access token has been revoked.",
            code="gateway.token_revoked",
            headers=_challenge("invalid_token", "revoked"),
        )
    request.state.principal = principal
    await _count(request, principal)
    return principal


async def _count(request: Request, principal: Principal) -> None:
    """Count the request against the client's tier; 429 once the minute's quota is spent."""
    quota = await cast(Quotas, request.state.quotas).check(principal.client_id, principal.tier)
    if quota is None:
        return
    request.state.quota_headers = quota.headers()
    if not quota.allowed:
        gateway_metrics(request).quota_rejections.labels(principal.tier).inc()
        raise TooManyRequests(
            f"The quota of {quota.limit} requests per minute for tier {principal.tier!r} is spent.",
            code="gateway.quota_exceeded",
            headers={**quota.headers(), "Retry-After": str(quota.reset)},
        )


# Why an API request's bearer token was refused (a bounded label of
# chiso_gateway_auth_refusals): the codes `authenticate` and the scope check raise.
AUTH_REFUSALS = frozenset(
    {
        "token_missing",
        "token_expired",
        "token_invalid",
        "client_revoked",
        "token_revoked",
        "scope_missing",
    }
)


def count_refusal(request: Request, refusal: ChisoError) -> None:
    reason = (refusal.code or "").removeprefix("gateway.")
    metrics = gateway_metrics(request)
    metrics.auth_refusals.labels(reason if reason in AUTH_REFUSALS else "other").inc()


# What a caller without a token may do when the anonymous tier is on: read indicators.
ANONYMOUS_SCOPES = frozenset({"indicators:read"})


async def _anonymous(request: Request) -> Principal | None:
    """The principal of a caller without a token when `ANONYMOUS_READ` is on: one per
    address (after `FORWARDED_ALLOW_IPS`), so each address has its own quota of the
    anonymous tier and its own audit rows."""
    settings = cast(Settings, request.state.settings)
    if not settings.anonymous_read:
        return None
    address = request.client.host if request.client else "unknown"
    principal = Principal(
        client_id=f"anonymous@{address}",
        org="anonymous",
        scopes=ANONYMOUS_SCOPES,
        token_id="",
        tier=settings.anonymous_tier,
    )
    request.state.principal = principal
    await _count(request, principal)
    return principal


class _Bearer(SecurityBase):
    """A security dependency: the caller's Bearer token, which must grant `scope` (or one of
    the `alternatives`, scopes that imply it, such as `audit:admin` for `audit:read`).

    One dependency rather than a chain (`HTTPBearer` -> principal -> scope check -> route
    state): FastAPI spends tens of microseconds per dependency on every request. Being a
    `SecurityBase`, it still shows as the `HTTPBearer` scheme in OpenAPI.
    """

    def __init__(self, scope: str, *alternatives: str) -> None:
        self.model = HTTPBearerModel(description="An access token from POST /oauth2/token.")
        self.scheme_name = "HTTPBearer"
        self.scope = scope
        self.alternatives = frozenset(alternatives)

    async def principal(self, request: Request) -> Principal:
        try:
            return await self._principal(request)
        except (Unauthorized, Forbidden) as exc:
            count_refusal(request, exc)
            raise

    async def _principal(self, request: Request) -> Principal:
        token = bearer_token(request)
        if token is None and self.scope in ANONYMOUS_SCOPES:
            anonymous = await _anonymous(request)
            if anonymous is not None:
                return anonymous
        principal = await authenticate(request, token)
        if self.scope not in principal.scopes and self.alternatives.isdisjoint(principal.scopes):
            raise Forbidden(
                f"This route needs the scope {self.scope!r}.",
                code="gateway.scope_missing",
                headers=_challenge("insufficient_scope", self.scope),
            )
        return principal


class BearerScope(_Bearer):
    """Depends on it for the principal, which holds `scope`."""

    async def __call__(self, request: Request) -> Principal:
        return await self.principal(request)


class ReadAccess(_Bearer):
    """Depends on it for what the cached read routes need, once the caller holds `scope`."""

    async def __call__(self, request: Request) -> Reads:
        await self.principal(request)
        return cast(Reads, request.state.reads)


class AnyScope(_Bearer):
    """Depends on it for the principal of any valid token, whatever scopes it grants; without
    a token, the anonymous principal when that tier is on (`GET /v1/me` answers both)."""

    def __init__(self) -> None:
        super().__init__("")

    async def _principal(self, request: Request) -> Principal:
        token = bearer_token(request)
        if token is None and (anonymous := await _anonymous(request)) is not None:
            return anonymous
        return await authenticate(request, token)

    async def __call__(self, request: Request) -> Principal:
        return await self.principal(request)


def require(scope: str, *alternatives: str) -> BearerScope:
    return BearerScope(scope, *alternatives)


IndicatorsReader = Annotated[Reads, Depends(ReadAccess("indicators:read"))]
Caller = Annotated[Principal, Depends(AnyScope())]
