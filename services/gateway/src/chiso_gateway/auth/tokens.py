"""Signed access tokens (HS256 JWTs) carrying the client, its agency (and the area it serves)
and its scopes."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import jwt

from chiso_shared.catalogue import resolve_area

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    client_id: str
    org: str
    scopes: frozenset[str]
    token_id: str
    tier: str = "standard"
    expires_at: int = 0  # the token's `exp`, seconds since the epoch
    area: str = ""  # the area its agency serves: the scope hint of its uploads ("" for none)


def issue(
    *,
    key: str,
    issuer: str,
    client_id: str,
    org: str,
    scopes: list[str],
    ttl: int,
    tier: str = "standard",
    area: str = "",
) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": client_id,
        "org": org,
        "area": area,
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
        expires_at=int(claims["exp"]),
        # a token issued before the GSO codes carries `VN-38`: read as `38`
        area=_area(str(claims.get("area") or "")),
    )


def _area(claim: str) -> str:
    return (resolve_area(claim) or claim) if claim else ""


class Verifier:
    """`verify` with a memory of tokens already verified, kept until each expires.

    Entries are keyed by the token's SHA-256, so the tokens themselves are not kept. A token
    that verified once with this key verifies again until `exp`; revocation is checked
    separately, per client (`auth.clients.ActiveClients`), so remembering does not delay it.
    """

    def __init__(self, *, key: str, issuer: str, max_entries: int = 10_000) -> None:
        self.key = key
        self.issuer = issuer
        self.max_entries = max_entries
        self.known: OrderedDict[bytes, Principal] = OrderedDict()

    def verify(self, token: str, now: float | None = None) -> Principal:
        """The token's principal; raises `jwt.InvalidTokenError` like `verify`."""
        if self.max_entries == 0:
            return verify(token, key=self.key, issuer=self.issuer)
        digest = hashlib.sha256(token.encode()).digest()
        principal = self.known.get(digest)
        now = time.time() if now is None else now
        if principal is not None:
            if now < principal.expires_at:
                return principal
            del self.known[digest]
            raise jwt.ExpiredSignatureError("Signature has expired")
        principal = verify(token, key=self.key, issuer=self.issuer)
        self.known[digest] = principal
        while len(self.known) > self.max_entries:
            self.known.popitem(last=False)
        return principal
