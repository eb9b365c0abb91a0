"""POST /oauth2/token (and /token): OAuth2 client credentials, answered in the WSO2 shape;
POST /oauth2/revoke: RFC 7009 token revocation."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated, Literal, cast

import jwt
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_gateway.auth import clients, tokens
from chiso_gateway.auth.keys import KeyRing, NoSigningKey
from chiso_gateway.db.models import Client
from chiso_gateway.deps import SessionDep, SettingsDep
from chiso_gateway.metrics import gateway_metrics
from chiso_gateway.quota import TokenLimits, TokenLimitsUnavailable
from chiso_gateway.settings import Settings
from chiso_shared.errors import problem_responses

router = APIRouter(tags=["auth"])
# The errors a token request is refused with (a bounded label of chiso_gateway_token_refusals).
TOKEN_ERRORS = frozenset(
    {
        "unsupported_grant_type",
        "invalid_client",
        "invalid_scope",
        "invalid_request",
        "token_rate_limited",
        "temporarily_unavailable",
    }
)


class TokenRequest(BaseModel):
    """An OAuth2 client credentials token request (RFC 6749 §4.4), as a form. The client
    authenticates with HTTP Basic or with `client_id` and `client_secret` here."""

    grant_type: str = Field(examples=["client_credentials"])
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = Field(default=None, description="Space-separated subset of the grant.")


class RevocationRequest(BaseModel):
    """An RFC 7009 token revocation request, as a form; the client authenticates as for a
    token."""

    token: str | None = Field(
        default=None, max_length=8192, examples=["eyJhbGciOiJFZERTQSIsImtpZCI6..."]
    )
    # Only access tokens exist, so the hint changes nothing (RFC 7009 §2.1 lets it be ignored).
    token_type_hint: str | None = Field(default=None, examples=["access_token"])
    client_id: str | None = None
    client_secret: str | None = None


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(examples=[3600])
    scope: str = Field(examples=["indicators:read"])


def _oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """RFC 6749 §5.2 fields, plus the problem fields every chiso error has."""
    headers = {"Cache-Control": "no-store", **(headers or {})}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="chiso"'
    return JSONResponse(
        {
            "error": error,
            "error_description": description,
            "type": f"urn:chiso:problem:gateway.{error}",
            "title": "Token request refused",
            "status": status,
            "code": f"gateway.{error}",
            "detail": description,
        },
        status_code=status,
        headers=headers,
        media_type="application/problem+json",
    )


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


async def _authenticated_client(
    request: Request,
    session: AsyncSession,
    settings: Settings,
    client_id: str | None,
    client_secret: str | None,
) -> Client | JSONResponse:
    """The client a token endpoint is called by (HTTP Basic or form fields), a failure counted
    against the token endpoints' limits; or the refusal to answer with (429, 401, 503)."""
    credentials = _basic(request) or (client_id or "", client_secret or "")
    # The caller's address as trusted proxies report it (FORWARDED_ALLOW_IPS), else the peer.
    address = request.client.host if request.client else "unknown"
    limits = cast(TokenLimits, request.state.token_limits)
    try:
        over = await limits.check(credentials[0], address)
    except TokenLimitsUnavailable as exc:
        return _oauth_error(
            503,
            "temporarily_unavailable",
            "Token requests cannot be counted right now; try again shortly.",
            {"Retry-After": str(exc.retry_after)},
        )
    if over is not None:
        return _oauth_error(
            429,
            "token_rate_limited",
            f"Too many failed token requests: {over.limit} per "
            f"{settings.token_limit_window_seconds} s.",
            {**over.headers(), "Retry-After": str(over.reset)},
        )
    client = await clients.authenticate(session, *credentials)
    if client is None:
        await limits.failed(credentials[0], address)
        return _oauth_error(401, "invalid_client", "Unknown client or wrong secret.")
    request.state.audit_client, request.state.audit_org = client.client_id, client.org
    return client


@router.post(
    "/oauth2/token",
    response_model=TokenResponse,
    summary="Get an access token with client credentials",
    description=(
        "Failed requests are limited per caller address (`TOKEN_LIMIT_PER_ADDRESS`) and per"
        " client id from one address (`TOKEN_LIMIT_PER_CLIENT`): beyond either, 429 with"
        " `Retry-After`, the secret not checked. Successful requests are not counted. 503 when"
        " Redis cannot count failures and `TOKEN_LIMIT_FAIL_OPEN` is false."
    ),
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6...",
                        "token_type": "Bearer",
                        "expires_in": 3600,
                        "scope": "indicators:read",
                    }
                }
            }
        },
        **problem_responses(400, 401, 413, 429, 503),
    },
)
@router.post("/token", response_model=TokenResponse, include_in_schema=False)
async def token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[TokenRequest, Form()],
) -> JSONResponse:
    answer = await _token(request, session, settings, form)
    _count_token(request, answer)
    return answer


def _count_token(request: Request, answer: JSONResponse) -> None:
    """An issued token, or a refusal by its OAuth error (the answer's `error` field)."""
    metrics = gateway_metrics(request)
    if answer.status_code == 200:
        metrics.tokens_issued.inc()
        return
    error = json.loads(bytes(answer.body)).get("error", "") if answer.body else ""
    metrics.token_refusals.labels(error if error in TOKEN_ERRORS else "other").inc()


async def _token(
    request: Request, session: AsyncSession, settings: Settings, form: TokenRequest
) -> JSONResponse:
    if form.grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported.")
    client = await _authenticated_client(
        request, session, settings, form.client_id, form.client_secret
    )
    if isinstance(client, JSONResponse):
        return client
    granted = client.scopes.split()
    asked = form.scope.split() if form.scope else granted
    if not set(asked) <= set(granted):
        return _oauth_error(400, "invalid_scope", "The client may not have these scopes.")
    ring = cast(KeyRing | None, request.state.key_ring)
    try:
        key = ring.signer() if ring is not None else cast(str, request.state.signing_key)
    except NoSigningKey:
        return _oauth_error(
            503, "temporarily_unavailable", "No token signing key is in service; try later."
        )
    access = tokens.issue(
        key=key,
        issuer=settings.issuer(),
        client_id=client.client_id,
        org=client.org,
        area=client.area,
        scopes=asked,
        ttl=settings.token_ttl_seconds,
        tier=client.tier,
    )
    body = TokenResponse(
        access_token=access, expires_in=settings.token_ttl_seconds, scope=" ".join(asked)
    )
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store"})


@router.post(
    "/oauth2/revoke",
    summary="Revoke an access token (RFC 7009)",
    description=(
        "The client authenticates as for a token (HTTP Basic or form fields) and names one of"
        " its own access tokens. The answer is 200 with an empty body whether or not the token"
        " was still valid (RFC 7009 §2.2); every gateway process refuses it within"
        " `CLIENT_CHECK_SECONDS`."
    ),
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "example": {
                        "token": "eyJhbGciOiJFZERTQSIsImtpZCI6...",
                        "token_type_hint": "access_token",
                    }
                }
            }
        }
    },
    responses={
        200: {"description": "Revoked, or nothing left to revoke.", "content": {}},
        **problem_responses(400, 401, 413, 429, 503),
    },
)
async def revoke(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[RevocationRequest, Form()],
) -> Response:
    client = await _authenticated_client(
        request, session, settings, form.client_id, form.client_secret
    )
    if isinstance(client, JSONResponse):
        return client
    token = form.token
    if not token:
        return _oauth_error(400, "invalid_request", "The form field `token` is required.")
    try:
        principal = cast(tokens.Verifier, request.state.tokens).verify(token)
    except jwt.InvalidTokenError:
        # Expired, forged or garbled: nothing that could still be used, so nothing to refuse.
        return Response(status_code=200, headers={"Cache-Control": "no-store"})
    if principal.client_id != client.client_id:
        return _oauth_error(400, "invalid_request", "This token was issued to another client.")
    await clients.revoke_token(session, principal)
    return Response(status_code=200, headers={"Cache-Control": "no-store"})
