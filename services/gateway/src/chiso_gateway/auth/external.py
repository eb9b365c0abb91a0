"""Access tokens of the province's own identity provider (WSO2 Key Manager, Keycloak, ...),
accepted by its issuer and verified with its JWKS, their scopes mapped to chiso's.

The JWKS is fetched with the gateway's HTTP client (aiohttp), kept for `ttl` seconds and
fetched again early when a token names a key it does not hold (a rotation at the IdP), at
most once per `min_refresh` seconds so forged `kid`s cannot make the gateway hammer the IdP.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jwt
from pydantic import BaseModel, Field

from chiso_gateway.auth.tokens import Principal
from chiso_shared.catalogue import resolve_area

log = logging.getLogger("chiso.gateway.external")
MAX_JWKS_BYTES = 256 * 1024  # a JWKS is a few KiB; anything near this is not one
CLIENT_ID_MAX = 64  # the audit log's and quotas' client id column


class ExternalIssuer(BaseModel):
    """One entry of EXTERNAL_ISSUERS: an identity provider whose access tokens are accepted."""

    issuer: str = Field(examples=["https://sso.example.gov.vn/realms/province"])
    jwks_url: str = Field(
        examples=["https://sso.example.gov.vn/realms/province/protocol/openid-connect/certs"]
    )
    audience: str | None = Field(
        default=None, description="The `aud` its tokens must carry; none: `aud` not checked."
    )
    scope_map: dict[str, str] = Field(
        default_factory=dict,
        description="Its scope -> the chiso scope it grants; scopes not listed grant nothing.",
    )
    client_claim: str = Field(
        default="azp", description="The claim naming the calling client (azp, client_id, sub)."
    )
    area_claim: str | None = Field(default=None, description="A claim holding the area code.")
    org: str = Field(default="", max_length=100, description="The agency its callers belong to.")
    tier: str = Field(default="standard", description="The quota tier of its callers.")
    name: str = Field(
        default="",
        max_length=30,
        description="Prefix of its callers' client ids (`<name>:<client>`); default: its host.",
    )
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])

    def label(self) -> str:
        return self.name or (urlsplit(self.issuer).hostname or "external")


class IssuerUnavailable(jwt.InvalidTokenError):
    """The issuer's JWKS could not be fetched (its tokens cannot be checked right now)."""


class ExternalIssuers:
    """The configured identity providers, their JWKS fetched and kept as described above."""

    def __init__(
        self,
        issuers: Sequence[ExternalIssuer],
        *,
        ttl: float,
        min_refresh: float,
        timeout: float,
    ) -> None:
        self.issuers = {issuer.issuer: issuer for issuer in issuers}
        self.ttl = ttl
        self.min_refresh = min_refresh
        self.timeout = timeout
        self.sets: dict[str, tuple[float, jwt.PyJWKSet]] = {}
        self.tried: dict[str, float] = {}
        self.session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def verify(self, token: str) -> Principal:
        """The principal of an external token; raises `jwt.InvalidTokenError`."""
        unverified = jwt.decode(token, options={"verify_signature": False})
        config = self.issuers.get(str(unverified.get("iss", "")))
        if config is None:
            raise jwt.InvalidIssuerError("Unknown issuer")
        kid = str(jwt.get_unverified_header(token).get("kid", ""))
        key = await self._key(config, kid)
        if key.algorithm_name not in config.algorithms:
            raise jwt.InvalidAlgorithmError(
                f"The issuer's key {kid!r} is not for {config.algorithms}"
            )
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],  # the key's own, never one the token picks
                issuer=config.issuer,
                audience=config.audience,
                options={"require": ["exp", "iss"], "verify_aud": config.audience is not None},
            )
        except jwt.InvalidTokenError:
            raise
        except jwt.PyJWTError as exc:  # a key unfit for its algorithm: still just a bad token
            raise jwt.InvalidTokenError(str(exc)) from exc
        return _principal(config, claims, token)

    async def _key(self, config: ExternalIssuer, kid: str) -> jwt.PyJWK:
        held = self.sets.get(config.issuer)
        fresh = held is not None and time.monotonic() - held[0] < self.ttl
        key = _find(held[1], kid) if held else None
        if key is not None and fresh:
            return key
        last_try = self.tried.get(config.issuer, float("-inf"))
        if time.monotonic() - last_try >= self.min_refresh or not fresh:
            self.tried[config.issuer] = time.monotonic()
            try:
                fetched = await self._fetch(config.jwks_url)
            except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWKSetError) as exc:
                log.warning("JWKS of %s not fetched: %r", config.issuer, exc)
                if key is not None:
                    return key  # the key held before still verifies its own tokens
                raise IssuerUnavailable(f"JWKS of {config.issuer} unavailable") from exc
            self.sets[config.issuer] = (time.monotonic(), fetched)
            key = _find(fetched, kid)
        if key is None:
            raise jwt.InvalidTokenError(f"No key {kid!r} in the issuer's JWKS")
        return key

    async def _fetch(self, url: str) -> jwt.PyJWKSet:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        async with self.session.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise ValueError(f"{url} answered {response.status}")
            body = await response.content.read(MAX_JWKS_BYTES + 1)
            if len(body) > MAX_JWKS_BYTES:
                raise ValueError(f"{url} answered more than {MAX_JWKS_BYTES} bytes")
        return jwt.PyJWKSet.from_json(body.decode())


def _find(keys: jwt.PyJWKSet, kid: str) -> jwt.PyJWK | None:
    matching = [key for key in keys.keys if key.key_id == kid or (not kid and len(keys.keys) == 1)]
    return matching[0] if matching else None


def _scopes(claims: dict[str, Any]) -> list[str]:
    """Their scopes: `scope` (a space-separated string, OAuth) or `scp` (a list, Keycloak
    and others)."""
    raw = claims.get("scope", claims.get("scp", ""))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(item) for item in raw]
    return []


def _principal(config: ExternalIssuer, claims: dict[str, Any], token: str) -> Principal:
    caller = claims.get(config.client_claim) or claims.get("sub")
    if not isinstance(caller, str) or not caller:
        raise jwt.MissingRequiredClaimError(config.client_claim)
    client_id = f"{config.label()}:{caller}"
    if len(client_id) > CLIENT_ID_MAX:
        raise jwt.InvalidTokenError(f"The client id {client_id[:70]!r}... is too long")
    scopes = frozenset(
        config.scope_map[scope] for scope in _scopes(claims) if scope in config.scope_map
    )
    area = ""
    if config.area_claim and isinstance(claims.get(config.area_claim), str):
        area = resolve_area(str(claims[config.area_claim])) or ""
    token_id = str(claims.get("jti") or hashlib.sha256(token.encode()).hexdigest()[:32])
    return Principal(
        client_id=client_id,
        org=config.org,
        scopes=scopes,
        token_id=token_id[:64],
        tier=config.tier,
        expires_at=int(claims["exp"]),
        area=area,
        external=config.label(),
        subject=str(claims.get("sub") or ""),
    )
