"""/v1/admin/clients: create, list, rotate, re-tier and revoke clients with a `clients:admin`
token, against a live indicators service and the gateway's own database."""

from __future__ import annotations

from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import select

from chiso_gateway.db.models import AuditRecord
from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_shared.db import create_engine, create_sessionmaker
from tests.gateway.support import client_headers, gateway_settings
from tests.support import running

pytestmark = pytest.mark.asyncio


async def token(gateway: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await gateway.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


async def audited_routes(settings: Settings, client_id: str) -> list[tuple[str, str, int]]:
    engine = create_engine(settings.resolved_database_url())
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.scalars(
                select(AuditRecord).where(AuditRecord.client_id == client_id)
            )
            return [(row.method, row.route, row.status) for row in rows]
    finally:
        await engine.dispose()


async def test_an_admin_manages_clients_over_http(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, client_check_seconds=0)
    async with running(create_app(settings)) as gateway:
        admin_id, admin = await client_headers(gateway, settings, "clients:admin")

        made = await gateway.post(
            "/v1/admin/clients",
            json={"name": "Cổng dữ liệu", "scopes": ["indicators:read"], "area": "VN-38"},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        assert made.headers["Cache-Control"] == "no-store"
        new = made.json()["data"]
        assert new["scopes"] == ["indicators:read"]
        first = await token(gateway, new["client_id"], new["client_secret"])
        assert first.status_code == 200
        live = {"Authorization": f"Bearer {first.json()['access_token']}"}
        assert (await gateway.get("/v1/indicators", headers=live)).status_code == 200

        listed = await gateway.get("/v1/admin/clients", headers=admin)
        assert {row["client_id"] for row in listed.json()["data"]} == {admin_id, new["client_id"]}
        assert all("secret" not in str(row) for row in listed.json()["data"])
        one = (await gateway.get(f"/v1/admin/clients/{new['client_id']}", headers=admin)).json()
        assert one["data"]["area"] == "38" and one["data"]["tier"] == "standard"

        # Re-tier: the tokens it gets from then on carry the new tier.
        changed = await gateway.patch(
            f"/v1/admin/clients/{new['client_id']}", json={"tier": "gold"}, headers=admin
        )
        assert changed.status_code == 200 and changed.json()["data"]["tier"] == "gold"
        again = await token(gateway, new["client_id"], new["client_secret"])
        claims = jwt.decode(again.json()["access_token"], options={"verify_signature": False})
        assert claims["tier"] == "gold"

        # Rotate: the old secret stops working at once, the new one works.
        rotated = await gateway.post(
            f"/v1/admin/clients/{new['client_id']}/rotate-secret", headers=admin
        )
        assert rotated.status_code == 200
        secret = rotated.json()["data"]["client_secret"]
        assert secret != new["client_secret"]
        assert (await token(gateway, new["client_id"], new["client_secret"])).status_code == 401
        assert (await token(gateway, new["client_id"], secret)).status_code == 200

        # Revoke: its live token stops working (CLIENT_CHECK_SECONDS is 0 here), so does the
        # secret; rotating a revoked client's secret is refused.
        revoked = await gateway.post(f"/v1/admin/clients/{new['client_id']}/revoke", headers=admin)
        assert revoked.status_code == 200 and revoked.json()["data"]["revoked_at"]
        refused = await gateway.get("/v1/indicators", headers=live)
        assert refused.status_code == 401 and refused.json()["code"] == "gateway.client_revoked"
        assert (await token(gateway, new["client_id"], secret)).status_code == 401
        late = await gateway.post(
            f"/v1/admin/clients/{new['client_id']}/rotate-secret", headers=admin
        )
        assert late.status_code == 404
    routes = await audited_routes(settings, admin_id)
    assert ("POST", "/v1/admin/clients", 201) in routes
    assert ("POST", "/v1/admin/clients/{client_id}/revoke", 200) in routes


async def test_admin_routes_need_clients_admin_and_refuse_bad_input(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url)
    async with running(create_app(settings)) as gateway:
        _, reader = await client_headers(gateway, settings, "indicators:read", "audit:admin")
        _, admin = await client_headers(gateway, settings, "clients:admin")

        assert (await gateway.get("/v1/admin/clients")).status_code == 401
        forbidden = await gateway.get("/v1/admin/clients", headers=reader)
        assert forbidden.status_code == 403
        assert forbidden.json()["code"] == "gateway.scope_missing"
        made = await gateway.post(
            "/v1/admin/clients", json={"name": "x", "scopes": ["indicators:read"]}, headers=reader
        )
        assert made.status_code == 403

        unknown = await gateway.post(
            "/v1/admin/clients", json={"name": "x", "scopes": ["everything"]}, headers=admin
        )
        assert unknown.status_code == 422
        assert unknown.json()["code"] == "gateway.client_invalid"
        assert "phạm vi không có" in unknown.json()["detail"]  # Vietnamese and English
        assert "unknown scope" in unknown.json()["detail"]
        tier = await gateway.post(
            "/v1/admin/clients",
            json={"name": "x", "scopes": ["indicators:read"], "tier": "platinum"},
            headers=admin,
        )
        assert tier.status_code == 422 and "unknown tier" in tier.json()["detail"]
        extra = await gateway.post(
            "/v1/admin/clients",
            json={"name": "x", "scopes": ["indicators:read"], "secret": "mine"},
            headers=admin,
        )
        assert extra.status_code == 422
        missing = await gateway.patch(
            "/v1/admin/clients/ch_nope", json={"tier": "gold"}, headers=admin
        )
        assert missing.status_code == 404
        assert missing.json()["code"] == "gateway.client_not_found"
        assert (
            await gateway.post("/v1/admin/clients/ch_nope/revoke", headers=admin)
        ).status_code == 404
        area = await gateway.get("/v1/admin/clients", headers=admin)
        target = area.json()["data"][0]["client_id"]
        bad_area = await gateway.patch(
            f"/v1/admin/clients/{target}", json={"area": "Mars"}, headers=admin
        )
        assert bad_area.status_code == 422 and "not an area code" in bad_area.json()["detail"]
