"""Service tokens: how ingest and indicators know a call comes from another chiso service.

Outside systems reach chiso through the gateway, which checks their OAuth2 tokens, scopes and
quotas and audits every request. Calls between the services carry a short-lived JWT of their
own (HS256, signed with the deployment's `SERVICE_TOKEN_SECRET`, shared by the three
services):

    iss    the calling service (`gateway`, `ingest`, `cli`)
    aud    the called service (`ingest`, `indicators`)
    scope  what the caller may do there: `read`, `write` (space-separated)
    iat, exp  minted for `SERVICE_TOKEN_TTL_SECONDS` (60 s), reused until half of it is left

The callee (`ServiceAuth`, installed on its routers by `require_service_token`) answers 401
without a valid token for its audience and 403 without the scope the method needs: `write`
for every method but GET/HEAD/OPTIONS, `read` for those unless `OPEN_READS` is set. Health probes
stay open (they are not behind the dependency).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chiso_shared.errors import Forbidden, Unauthorized

ALGORITHM = "HS256"
READ = "read"
WRITE = "write"
MIN_SECRET_BYTES = 32
DEV_KEY_FILE = "service-token.key"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

logger = logging.getLogger("chiso.service_auth")
Clock = Callable[[], float]


class ServiceTokenConfigError(RuntimeError):
    """The service token secret is missing or too short where it must be set."""


def resolve_secret(configured: str | None, *, env: str, data_dir: Path, setting: str) -> str:
    """The configured secret, checked; in dev without one, a random key kept in the data dir.

    `setting` names the variable in messages (`CHISO_INGEST_SERVICE_TOKEN_SECRET`).
    """
    if configured is not None:
        if env == "prod" and len(configured.encode()) < MIN_SECRET_BYTES:
            raise ServiceTokenConfigError(
                f"{setting} must be at least {MIN_SECRET_BYTES} bytes when env is prod"
            )
        return configured
    if env == "prod":
        raise ServiceTokenConfigError(f"{setting} must be set when env is prod")
    path = Path(data_dir) / DEV_KEY_FILE
    logger.warning(
        "no service token secret configured: using the dev key in %s; set %s (the same value "
        "in every service) for any deployment",
        path,
        setting,
        extra={"key_file": str(path)},
    )
    return dev_secret(path)


def dev_secret(path: Path) -> str:
    """A random key kept in `path`, created once: services that share a data dir share it.

    Written to a temporary file and linked into place, so processes starting together agree
    on one key (the link fails for all but the first).
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".service-token.")
        try:
            os.write(handle, secrets.token_urlsafe(48).encode())
            os.close(handle)
            os.chmod(temporary, 0o600)
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


class ServiceTokens:
    """Mints the tokens this service sends; each is reused until half its lifetime is left."""

    def __init__(self, secret: str, issuer: str, ttl: int = 60, clock: Clock = time.time) -> None:
        self.secret = secret
        self.issuer = issuer
        self.ttl = ttl
        self.clock = clock
        self._minted: dict[tuple[str, str], tuple[float, str]] = {}

    def token(self, audience: str, scopes: Iterable[str]) -> str:
        scope = " ".join(sorted(scopes))
        now = self.clock()
        cached = self._minted.get((audience, scope))
        if cached is not None and cached[0] - now > self.ttl / 2:
            return cached[1]
        issued = int(now)
        claims = {
            "iss": self.issuer,
            "sub": self.issuer,
            "aud": audience,
            "scope": scope,
            "iat": issued,
            "exp": issued + self.ttl,
        }
        token = jwt.encode(claims, self.secret, algorithm=ALGORITHM)
        self._minted[(audience, scope)] = (issued + self.ttl, token)
        return token

    def headers(self, audience: str, scopes: Iterable[str]) -> dict[str, str]:
        """The Authorization header for a call to `audience`."""
        return {"Authorization": f"Bearer {self.token(audience, scopes)}"}


class ServiceTokenAuth(httpx.Auth):
    """httpx authentication: every request through the client carries a service token."""

    def __init__(self, tokens: ServiceTokens, audience: str, scopes: Iterable[str]) -> None:
        self.tokens = tokens
        self.audience = audience
        self.scopes = tuple(scopes)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self.tokens.headers(self.audience, self.scopes))
        yield request


@dataclass(frozen=True)
class ServiceCaller:
    """Who called: the issuing service and its scopes (empty for an open read)."""

    service: str
    scopes: frozenset[str]


ANONYMOUS = ServiceCaller(service="", scopes=frozenset())


def _unauthorized(detail: str, code: str) -> Unauthorized:
    return Unauthorized(
        detail,
        code=f"service_auth.{code}",
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{code}"'},
    )


class ServiceAuth:
    """Checks the service tokens sent to this service (`audience`)."""

    def __init__(
        self,
        secret: str,
        audience: str,
        *,
        open_reads: bool = False,
        leeway: float = 5.0,
        max_remembered: int = 1024,
    ) -> None:
        self.secret = secret
        self.audience = audience
        self.open_reads = open_reads
        self.leeway = leeway
        self.max_remembered = max_remembered
        # A caller reuses its token for half a minute: verified tokens are remembered (until
        # `exp`) so a hot read does not decode and check an HMAC on every call.
        self._verified: dict[str, tuple[float, ServiceCaller]] = {}

    def check(self, token: str | None, method: str) -> ServiceCaller:
        """The caller of a request with this bearer `token`; raises 401 or 403."""
        needed = READ if method.upper() in READ_METHODS else WRITE
        if needed == READ and self.open_reads:
            return ANONYMOUS
        if not token:
            raise _unauthorized(
                "This service answers only other chiso services: send a service token "
                "(Authorization: Bearer). Dịch vụ này chỉ nhận lời gọi từ các dịch vụ chiso "
                "khác: hãy gửi mã xác thực dịch vụ.",
                "token_missing",
            )
        caller = self._verify(token)
        if needed not in caller.scopes:
            raise Forbidden(
                f"The service token of {caller.service!r} does not allow {needed!r} here. "
                f"Mã xác thực dịch vụ của {caller.service!r} không có quyền {needed!r} ở đây.",
                code="service_auth.scope_missing",
            )
        return caller

    def _verify(self, token: str) -> ServiceCaller:
        remembered = self._verified.get(token)
        if remembered is not None and remembered[0] + self.leeway > time.time():
            return remembered[1]
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise _unauthorized(
                "The service token has expired. Mã xác thực dịch vụ đã hết hạn.",
                "token_expired",
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise _unauthorized(
                f"The service token is not meant for {self.audience!r}. "
                f"Mã xác thực dịch vụ không dành cho {self.audience!r}.",
                "wrong_audience",
            ) from exc
        except jwt.InvalidTokenError as exc:
            raise _unauthorized(
                "The service token is not valid (signature, format or claims). "
                "Mã xác thực dịch vụ không hợp lệ.",
                "token_invalid",
            ) from exc
        caller = ServiceCaller(
            service=str(claims["iss"]), scopes=frozenset(str(claims.get("scope", "")).split())
        )
        if len(self._verified) >= self.max_remembered:
            self._verified.clear()
        self._verified[token] = (float(claims["exp"]), caller)
        return caller


# Declares the bearer scheme in OpenAPI; `auto_error=False` so a missing token is answered by
# `ServiceAuth` in the problem envelope rather than by FastAPI's own 403.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="serviceToken",
    description="A service token (HS256 JWT) minted by another chiso service.",
)


async def require_service_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ServiceCaller:
    """FastAPI dependency: the calling service, checked by the app's `ServiceAuth` (from the
    lifespan state `service_auth`)."""
    auth: ServiceAuth = request.state.service_auth
    token = credentials.credentials if credentials is not None else None
    return auth.check(token, request.method)
