"""API clients: created with a random secret, stored with only a salted hash of it.

Secrets are 256-bit random strings, not passwords people choose, so a salted SHA-256 resists
guessing as well as a slow hash would and keeps the token endpoint fast under load.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_gateway.auth.tokens import Principal
from chiso_gateway.db.models import Client, RevokedToken
from chiso_shared.catalogue import resolve_area
from chiso_shared.db import utcnow

SCOPES = {
    "catalog:read": "Read the catalogue of services and routes.",
    "indicators:read": "Read indicators, series and observations.",
    "documents:write": "Upload documents and read their status.",
    "facts:review": "Review, correct and export extracted facts.",
    "audit:read": "Read the audit log rows of the client's own agency (org).",
    "audit:admin": "Read the whole audit log, every agency's rows.",
    "clients:admin": "Create, rotate, re-tier and revoke API clients (/v1/admin/clients).",
}
# What a token of an external identity provider may be granted: not the administration of
# chiso's own clients, which stays with clients chiso issued.
EXTERNAL_SCOPES = frozenset(SCOPES) - {"clients:admin"}
_ORG = re.compile(r"^[A-Za-z0-9._\-]{0,100}$")


class ClientError(ValueError):
    """A client cannot be created or changed as asked."""


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]


def hash_secret(secret: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()


def check_scopes(scopes: list[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ClientError(
            f"phạm vi không có: {', '.join(unknown)}; các phạm vi có: {', '.join(SCOPES)}. / "
            f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}"
        )
    if not scopes:
        raise ClientError(
            "client cần ít nhất một phạm vi (--scopes). / a client needs at least one scope"
        )
    return tuple(dict.fromkeys(scopes))


async def create(
    session: AsyncSession,
    name: str,
    scopes: list[str],
    *,
    org: str = "",
    area: str = "",
    tier: str = "standard",
    tiers: Collection[str] | None = None,
) -> NewClient:
    """A new client; `tiers`, when given, are the quota tiers the tier must be one of.
    `area` is the area its agency serves (`46`, `VN`; `iso:VN-26` and the old `VN-46` are
    read as `46`): the scope hint of the documents it uploads without one."""
    granted = check_scopes(scopes)
    check_tier(tier, tiers)
    check_org(org)
    client_id = "ch_" + secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    session.add(
        Client(
            client_id=client_id,
            name=check_name(name),
            org=org,
            area=check_area(area),
            tier=tier,
            scopes=" ".join(granted),
            secret_salt=salt,
            secret_hash=hash_secret(secret, salt),
        )
    )
    await session.flush()
    return NewClient(client_id=client_id, client_secret=secret, scopes=granted)


def check_tier(tier: str, tiers: Collection[str] | None) -> None:
    if tiers is not None and tier not in tiers:
        raise ClientError(
            f"không có hạng {tier!r}; các hạng có: {', '.join(tiers)}. / "
            f"unknown tier {tier!r}; known: {', '.join(tiers)}"
        )


def check_name(name: str) -> str:
    if not name.strip() or len(name) > 200:
        raise ClientError(
            "tên client phải dài 1 đến 200 ký tự. / a client needs a name of 1 to 200 characters"
        )
    return name.strip()


def check_org(org: str) -> None:
    if not _ORG.match(org):
        raise ClientError(
            "mã cơ quan (org) chỉ gồm chữ, số, '.', '_' hoặc '-'. / "
            "org must be letters, digits, '.', '_' or '-'"
        )


def check_area(area: str) -> str:
    """The area code of `area` (`46`, `VN`; `iso:VN-26` and the old `VN-46` read as `46`)."""
    code = resolve_area(area) if area else ""
    if code is None:
        raise ClientError(
            f"{area!r} không phải mã địa bàn (38, VN, iso:VN-21). / "
            f"area {area!r} is not an area code (38, VN, iso:VN-21)"
        )
    return code


async def get(session: AsyncSession, client_id: str) -> Client | None:
    return None if "\x00" in client_id else await session.get(Client, client_id)


async def rotate_secret(session: AsyncSession, client_id: str) -> NewClient | None:
    """A new secret for the client (the old one stops working at once; tokens already issued
    keep working until they expire); None when there is no such client, or it is revoked."""
    client = await get(session, client_id)
    if client is None or client.revoked_at is not None:
        return None
    secret = secrets.token_urlsafe(32)
    client.secret_salt = secrets.token_hex(16)
    client.secret_hash = hash_secret(secret, client.secret_salt)
    await session.flush()
    return NewClient(client_id, secret, tuple(client.scopes.split()))


async def update(
    session: AsyncSession,
    client_id: str,
    *,
    name: str | None = None,
    tier: str | None = None,
    area: str | None = None,
    tiers: Collection[str] | None = None,
) -> Client | None:
    """Change a client's name, tier or area (what is None stays); None when there is no such
    client. A new tier holds for tokens issued from then on (the tier travels in the token)."""
    client = await get(session, client_id)
    if client is None:
        return None
    if tier is not None:
        check_tier(tier, tiers)
        client.tier = tier
    if name is not None:
        client.name = check_name(name)
    if area is not None:
        client.area = check_area(area)
    await session.flush()
    return client


async def authenticate(session: AsyncSession, client_id: str, secret: str) -> Client | None:
    # No client id holds NUL, and PostgreSQL cannot even compare one: HTTP Basic credentials
    # are base64 in a header, so no input guard sees the NUL they may decode to.
    client = None if "\x00" in client_id else await session.get(Client, client_id)
    if client is None or client.revoked_at is not None:
        # Spend the same time as a real check so ids cannot be probed by timing.
        hmac.compare_digest(hash_secret(secret, "x" * 32), "0" * 64)
        return None
    if not hmac.compare_digest(hash_secret(secret, client.secret_salt), client.secret_hash):
        return None
    return client


async def list_all(session: AsyncSession) -> list[Client]:
    return list((await session.scalars(select(Client).order_by(Client.created_at))).all())


async def revoke(session: AsyncSession, client_id: str) -> bool:
    client = await get(session, client_id)
    if client is None:
        return False
    client.revoked_at = client.revoked_at or utcnow()
    await session.flush()
    return True


async def revoke_token(session: AsyncSession, principal: Principal) -> None:
    """Revoke one access token until it expires; rows of tokens expired since are dropped."""
    if await session.get(RevokedToken, principal.token_id) is None:
        expires = datetime.fromtimestamp(principal.expires_at, UTC)
        session.add(
            RevokedToken(
                token_id=principal.token_id, client_id=principal.client_id, expires_at=expires
            )
        )
    await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
    await session.flush()


class ActiveClients:
    """Whether a client may still use its tokens (not revoked, not deleted), and whether one
    token was revoked.

    Each answer is trusted for `ttl` seconds, so `chiso clients revoke` and POST
    /oauth2/revoke take effect on every gateway process within `ttl` (0: the database is asked
    on every request).
    """

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        ttl: float,
        max_tokens: int = 10_000,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.ttl = ttl
        self.max_tokens = max_tokens
        self.known: dict[str, tuple[float, bool]] = {}
        self.tokens: OrderedDict[str, tuple[float, bool]] = OrderedDict()
        self.lock = asyncio.Lock()

    async def is_token_revoked(self, token_id: str) -> bool:
        known = self.tokens.get(token_id)
        if known is not None and time.monotonic() - known[0] < self.ttl:
            return known[1]
        async with self.sessionmaker() as session:
            found = await session.scalar(
                select(RevokedToken.token_id).where(RevokedToken.token_id == token_id)
            )
        self.tokens[token_id] = (time.monotonic(), found is not None)
        self.tokens.move_to_end(token_id)
        while len(self.tokens) > self.max_tokens:
            self.tokens.popitem(last=False)
        return found is not None

    async def is_active(self, client_id: str) -> bool:
        known = self.known.get(client_id)
        if known is not None and time.monotonic() - known[0] < self.ttl:
            return known[1]
        async with self.lock:  # one read per client and period, however many requests wait
            known = self.known.get(client_id)
            if known is not None and time.monotonic() - known[0] < self.ttl:
                return known[1]
            async with self.sessionmaker() as session:
                found = (
                    await session.execute(
                        select(Client.revoked_at).where(Client.client_id == client_id)
                    )
                ).first()
            active = found is not None and found.revoked_at is None
            self.known[client_id] = (time.monotonic(), active)
            return active
