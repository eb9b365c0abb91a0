"""Signed access tokens (JWTs) carrying the client, its agency (and the area it serves) and
its scopes.

Tokens are signed with the gateway's asymmetric keys (`auth.keys`: EdDSA or RS256, published
at /.well-known/jwks.json), so other systems can verify them. HS256 tokens signed with
JWT_SECRET, as the gateway issued before, still verify while JWT_SECRET is set (or are
issued, with JWT_ALGORITHM=HS256). Tokens of configured external identity providers
(`auth.external`) verify against their JWKS.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from chiso_gateway.auth.keys import KeyRing, SigningKey
from chiso_shared.catalogue import resolve_area

if TYPE_CHECKING:
    from chiso_gateway.auth.external import ExternalIssuers

ALGORITHM = "HS256"  # the shared-secret tokens of before (JWT_SECRET)
REQUIRED_CLAIMS = ["exp", "sub", "jti", "iss"]


@dataclass(frozen=True)
class Principal:
    client_id: str
    org: str
    scopes: frozenset[str]
    token_id: str
    tier: str = "standard"
    expires_at: int = 0  # the token's `exp`, seconds since the epoch
    area: str = ""  # the area its agency serves: the scope hint of its uploads ("" for none)
    key_id: str = ""  # the `kid` of the gateway key that signed it ("": HS256 or external)
    external: str = ""  # the external issuer's name, for a token of an external IdP
    subject: str = ""  # an external token's `sub` (the audit log's user when none is named)


def issue(
    *,
    key: str | SigningKey,
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
    if isinstance(key, SigningKey):
        return jwt.encode(claims, key.private, algorithm=key.algorithm, headers={"kid": key.kid})
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def verify(token: str, *, key: str, issuer: str | Collection[str]) -> Principal:
    """The principal of an HS256 token; raises `jwt.InvalidTokenError` (expired, forged,
    malformed)."""
    claims = jwt.decode(
        token, key, algorithms=[ALGORITHM], issuer=issuer, options={"require": REQUIRED_CLAIMS}
    )
    return principal_of(claims)


def verify_signed(token: str, *, key: SigningKey, issuer: str | Collection[str]) -> Principal:
    """The principal of a token signed with one of the gateway's keys."""
    claims = jwt.decode(
        token,
        key.public,
        algorithms=[key.algorithm],
        issuer=issuer,
        options={"require": REQUIRED_CLAIMS},
    )
    return principal_of(claims, key_id=key.kid)


def principal_of(claims: dict[str, Any], key_id: str = "") -> Principal:
    return Principal(
        client_id=str(claims["sub"]),
        org=str(claims.get("org", "")),
        scopes=frozenset(str(claims.get("scope", "")).split()),
        token_id=str(claims["jti"]),
        tier=str(claims.get("tier") or "standard"),
        expires_at=int(claims["exp"]),
        # a token issued before the GSO codes carries `VN-38`: read as `38`
        area=_area(str(claims.get("area") or "")),
        key_id=key_id,
    )


def _area(claim: str) -> str:
    return (resolve_area(claim) or claim) if claim else ""


class Verifier:
    """Verifies the tokens the gateway accepts, with a memory of tokens already verified,
    kept until each expires.

    Entries are keyed by the token's SHA-256, so the tokens themselves are not kept. A token
    that verified once verifies again until `exp`, unless the key that signed it has left the
    key directory since; revocation is checked separately, per client
    (`auth.clients.ActiveClients`), so remembering does not delay it.

    `key` is the HS256 secret whose tokens are still accepted (None: none are); `ring`, the
    gateway's signing keys; `external`, the external identity providers.
    """

    def __init__(
        self,
        *,
        key: str | None,
        issuer: str | Collection[str],
        max_entries: int = 10_000,
        ring: KeyRing | None = None,
        external: ExternalIssuers | None = None,
    ) -> None:
        self.key = key
        self.issuer = issuer
        self.max_entries = max_entries
        self.ring = ring
        self.external = external
        self.known: OrderedDict[bytes, Principal] = OrderedDict()

    def verify(self, token: str, now: float | None = None) -> Principal:
        """The principal of a token the gateway issued; raises `jwt.InvalidTokenError`."""
        return self._remembered(token, now) or self._remember(token, self._decode(token))

    async def averify(self, token: str, now: float | None = None) -> Principal:
        """The principal of a token the gateway or an external identity provider issued."""
        principal = self._remembered(token, now)
        if principal is not None:
            return principal
        try:
            principal = self._decode(token)
        except _NotOurs:
            if self.external is None:
                raise
            principal = await self.external.verify(token)
        return self._remember(token, principal)

    def _remembered(self, token: str, now: float | None) -> Principal | None:
        if self.max_entries == 0:
            return None
        digest = hashlib.sha256(token.encode()).digest()
        principal = self.known.get(digest)
        if principal is None:
            return None
        now = time.time() if now is None else now
        if now >= principal.expires_at:
            del self.known[digest]
            raise jwt.ExpiredSignatureError("Signature has expired")
        if principal.key_id and (
            self.ring is None or self.ring.verification_key(principal.key_id, now) is None
        ):
            del self.known[digest]  # its key was withdrawn (deleted from the directory)
            raise jwt.InvalidTokenError("The token's key is no longer published")
        return principal

    def _remember(self, token: str, principal: Principal) -> Principal:
        if self.max_entries == 0:
            return principal
        self.known[hashlib.sha256(token.encode()).digest()] = principal
        while len(self.known) > self.max_entries:
            self.known.popitem(last=False)
        return principal

    def _decode(self, token: str) -> Principal:
        header = jwt.get_unverified_header(token)
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm == ALGORITHM:
            if self.key is None:
                raise jwt.InvalidAlgorithmError("HS256 tokens are no longer accepted")
            return verify(token, key=self.key, issuer=self.issuer)
        key = self.ring.verification_key(str(kid)) if self.ring and kid else None
        if key is None:
            raise _NotOurs(f"No gateway key {kid!r}")
        return verify_signed(token, key=key, issuer=self.issuer)


class _NotOurs(jwt.InvalidTokenError):
    """Not signed with any gateway key: perhaps an external identity provider's token."""
