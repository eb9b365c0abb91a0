"""Signed access tokens (HS256 JWTs) carrying the client, its agency and its scopes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    client_id: str
    org: str
    scopes: frozenset[str]
    token_id: str
    tier: str = "standard"


def issue(
    *,
    key: str,
    issuer: str,
    client_id: str,
    org: str,
    scopes: list[str],
    ttl: int,
    tier: str = "standard",
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": client_id,
        "org": org,
        "scope": " ".join(scopes),
        "tier": tier,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(token: str, *, key: str, issuer: str) -> Principal:
    """The token's principal; raises `jwt.InvalidTokenError` (expired, forged, malformed)."""
    claims = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],
        issuer=issuer,
        options={"require": ["exp", "sub", "jti", "iss"]},
    )
    return Principal(
        client_id=str(claims["sub"]),
        org=str(claims.get("org", "")),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        token_id=str(claims["jti"]),
        tier=str(claims.get("tier") or "standard"),
    )
