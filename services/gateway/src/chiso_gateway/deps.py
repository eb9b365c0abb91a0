"""Request dependencies: settings, session, upstreams and the authenticated principal."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, cast

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_gateway.auth.tokens import Principal, verify
from chiso_gateway.cache import Cache, RevisionTracker
from chiso_gateway.quota import Quotas
from chiso_gateway.settings import Settings
from chiso_gateway.upstream import Upstream
from chiso_shared.db import session_scope
from chiso_shared.errors import Forbidden, TooManyRequests, Unauthorized


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


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
IngestDep = Annotated[Upstream, Depends(get_ingest)]
IndicatorsDep = Annotated[Upstream, Depends(get_indicators)]
CacheDep = Annotated[Cache | None, Depends(get_cache)]
RevisionDep = Annotated[RevisionTracker, Depends(get_revision)]

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth2/token.")


def _challenge(error: str, description: str) -> dict[str, str]:
    return {
        "WWW-Authenticate": f'Bearer realm="chiso", error="{error}", '
        f'error_description="{description}"'
    }


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized(
            "A Bearer access token is required.",
            code="gateway.token_missing",
            headers={"WWW-Authenticate": 'Bearer realm="chiso"'},
        )
    settings = cast(Settings, request.state.settings)
    try:
        principal = verify(
            credentials.credentials,
            key=cast(str, request.state.signing_key),
            issuer=settings.jwt_issuer,
        )
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
        raise TooManyRequests(
            f"The quota of {quota.limit} requests per minute for tier {principal.tier!r} is spent.",
            code="gateway.quota_exceeded",
            headers={**quota.headers(), "Retry-After": str(quota.reset)},
        )


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if scope not in principal.scopes:
            raise Forbidden(
                f"This route needs the scope {scope!r}.",
                code="gateway.scope_missing",
                headers=_challenge("insufficient_scope", scope),
            )
        return principal

    return dependency
