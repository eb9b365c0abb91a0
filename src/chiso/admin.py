"""Administrative tasks run in-process against a service's own database."""

from __future__ import annotations

import importlib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from chiso_gateway import audit
from chiso_gateway.auth import clients
from chiso_gateway.auth.clients import NewClient
from chiso_gateway.db import migrate_async as migrate_gateway
from chiso_gateway.settings import Settings as GatewaySettings
from chiso_shared.db import create_engine, create_sessionmaker


def migrate_service(service: str) -> str:
    settings = importlib.import_module(f"chiso_{service}.settings").Settings()
    url: str = settings.resolved_database_url()
    importlib.import_module(f"chiso_{service}.db").migrate(url)
    return url


def gateway_settings(
    data_dir: Path | None = None, database_url: str | None = None
) -> GatewaySettings:
    """Gateway settings from the environment, with the data dir or URL given overriding it."""
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    return GatewaySettings(**overrides)


async def create_client(
    name: str,
    scopes: list[str],
    org: str,
    settings: GatewaySettings,
    *,
    tier: str = "standard",
    area: str = "",
) -> NewClient:
    url = settings.resolved_database_url()
    await migrate_gateway(url)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            created = await clients.create(
                session, name, scopes, org=org, area=area, tier=tier, tiers=settings.quota_tiers
            )
            await session.commit()
            return created
    finally:
        await engine.dispose()


async def list_clients(settings: GatewaySettings) -> list[dict[str, Any]]:
    url = settings.resolved_database_url()
    await migrate_gateway(url)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return [
                {
                    "client_id": row.client_id,
                    "name": row.name,
                    "org": row.org,
                    "area": row.area,
                    "tier": row.tier,
                    "scopes": row.scopes,
                    "created_at": row.created_at,
                    "revoked_at": row.revoked_at,
                }
                for row in await clients.list_all(session)
            ]
    finally:
        await engine.dispose()


async def revoke_client(client_id: str, settings: GatewaySettings) -> bool:
    url = settings.resolved_database_url()
    await migrate_gateway(url)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            done = await clients.revoke(session, client_id)
            await session.commit()
            return done
    finally:
        await engine.dispose()


async def verify_audit(
    settings: GatewaySettings, anchors: Collection[str] = ()
) -> audit.Verification:
    url = settings.resolved_database_url()
    await migrate_gateway(url)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await audit.verify(session, anchors=anchors)
    finally:
        await engine.dispose()
