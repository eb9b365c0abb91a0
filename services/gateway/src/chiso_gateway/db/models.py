"""The gateway database: API clients, revoked tokens and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from chiso_shared.db import Base, UtcTimestamp, new_metadata, utcnow


class GatewayBase(Base):
    __abstract__ = True
    metadata = new_metadata()


class Client(GatewayBase):
    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org: Mapped[str] = mapped_column(String(100), default="")
    # the area its agency serves (`VN-46`, `VN`, or "" for none): the scope hint of the
    # documents it uploads without one
    area: Mapped[str] = mapped_column(String(8), default="", server_default="")
    tier: Mapped[str] = mapped_column(String(32), default="standard")
    scopes: Mapped[str] = mapped_column(String(500))
    secret_salt: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcTimestamp(), nullable=True)


class RevokedToken(GatewayBase):
    """An access token revoked before it expired (POST /oauth2/revoke); kept until `exp`."""

    __tablename__ = "revoked_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcTimestamp(), index=True)
    revoked_at: Mapped[datetime] = mapped_column(UtcTimestamp(), default=utcnow)


class AuditRecord(GatewayBase):
    """One row per request, append-only; each row's hash covers the previous row's hash.

    `prev_hash` is unique, so two writers racing for the same predecessor cannot fork the
    chain: the second insert fails and is retried on the new head.
    """

    __tablename__ = "audit_log"
    # An agency's auditor pages through its own rows (`WHERE org = ? AND id > ? ORDER BY id`).
    __table_args__ = (Index("ix_audit_log_org_id", "org", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcTimestamp())
    request_id: Mapped[str] = mapped_column(String(128))
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    org: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    route: Mapped[str] = mapped_column(String(300))
    status: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_hash: Mapped[str] = mapped_column(String(64))
    # what the request acted on, when its route names it: a review's document and review id
    subject: Mapped[str] = mapped_column(String(300), default="", server_default="")
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
