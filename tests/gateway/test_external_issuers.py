"""Access tokens of an external identity provider (a Keycloak or WSO2 Key Manager stand-in: a
real HTTP server on a free port serving a JWKS), verified by its issuer and JWKS URL, their
scopes mapped to chiso's."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from pydantic import ValidationError
from sqlalchemy import select

from chiso_gateway.auth.external import ExternalIssuer, ExternalIssuers
from chiso_gateway.db.models import AuditRecord
from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_shared.db import create_engine, create_sessionmaker
from tests.gateway.support import gateway_settings
from tests.support import running

ISSUER = "https://sso.example.gov.vn/realms/province"


class IdentityProvider:
    """Keys of its own and a JWKS served over HTTP, counting the fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0
        self.up = True
        self.add_key("k1")

    def add_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        published = []
        for kid, key in self.keys.items():
            jwk = dict(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True))
            published.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": published}

    def token(self, kid: str = "k1", **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": ISSUER,
            "aud": "chiso",
            "azp": "reporting-app",
            "sub": "f3a1-service-account",
            "scope": "openid stats.read",
            "iat": now,
            "exp": now + 300,
            "jti": f"t-{now}-{len(claims)}",
            **claims,
        }
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def idp() -> Iterator[tuple[IdentityProvider, str]]:
    provider = IdentityProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.fetches += 1
            if not provider.up:
                self.send_response(503)
                self.end_headers()
                return
            body = json.dumps(provider.jwks()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider, f"http://127.0.0.1:{server.server_address[1]}/certs"
    finally:
        server.shutdown()
        server.server_close()


def issuer(jwks_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "issuer": ISSUER,
        "jwks_url": jwks_url,
        "audience": "chiso",
        "scope_map": {"stats.read": "indicators:read", "reports.upload": "documents:write"},
        "client_claim": "azp",
        "area_claim": "province",
        "org": "so-tttt",
        "tier": "silver",
        "name": "idp",
        **extra,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.asyncio
async def test_an_external_token_reads_with_its_mapped_scopes(
    tmp_path: Path, gateway_db: str, indicators_url: str, idp: tuple[IdentityProvider, str]
) -> None:
    provider, url = idp
    settings = gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        external_issuers=[issuer(url)],
        external_jwks_min_refresh_seconds=0,
    )
    async with running(create_app(settings)) as gateway:
        token = provider.token(province="VN-38")
        me = await gateway.get("/v1/me", headers=bearer(token))
        assert me.status_code == 200, me.text
        data = me.json()["data"]
        assert data["client_id"] == "idp:reporting-app"
        assert data["scopes"] == ["indicators:read"]  # openid maps to nothing
        assert (data["tier"], data["org"], data["area"]) == ("silver", "so-tttt", "38")
        assert (await gateway.get("/v1/indicators", headers=bearer(token))).status_code == 200
        upload = await gateway.get("/v1/documents", headers=bearer(token))
        assert upload.status_code == 403  # stats.read grants no documents:write

        refused = {
            "wrong audience": provider.token(aud="another-api"),
            "unknown issuer": provider.token(iss="https://evil.example"),
            "expired": provider.token(exp=int(time.time()) - 60),
            "no client claim": provider.token(azp=None, sub=None),
        }
        for why, bad in refused.items():
            answer = await gateway.get("/v1/me", headers=bearer(bad))
            assert answer.status_code == 401, why

        # A key of its own that the IdP never published, under a published kid: refused.
        impostor = IdentityProvider()
        assert (await gateway.get("/v1/me", headers=bearer(impostor.token()))).status_code == 401

        # The IdP rotates: a token of a new kid makes the gateway fetch the JWKS again.
        provider.add_key("k2")
        fresh = await gateway.get("/v1/me", headers=bearer(provider.token(kid="k2")))
        assert fresh.status_code == 200

    engine = create_engine(settings.resolved_database_url())
    try:
        async with create_sessionmaker(engine)() as session:
            rows = (
                await session.scalars(
                    select(AuditRecord).where(AuditRecord.client_id == "idp:reporting-app")
                )
            ).all()
    finally:
        await engine.dispose()
    assert {row.route for row in rows} >= {"/v1/me", "/v1/indicators"}
    assert all(row.org == "so-tttt" for row in rows)
    assert {row.user_id for row in rows} == {"f3a1-service-account"}  # the verified subject


@pytest.mark.asyncio
async def test_unknown_kids_refetch_at_most_once_per_period(
    idp: tuple[IdentityProvider, str],
) -> None:
    provider, url = idp
    issuers = ExternalIssuers(
        [ExternalIssuer.model_validate(issuer(url))], ttl=300, min_refresh=3600, timeout=5
    )
    try:
        assert (await issuers.verify(provider.token())).client_id == "idp:reporting-app"
        assert provider.fetches == 1
        provider.add_key("k9")
        for _ in range(5):  # forged or new kids: no refetch within the period of the last
            with pytest.raises(jwt.InvalidTokenError):
                await issuers.verify(provider.token(kid="k9"))
        assert provider.fetches == 1
        issuers.min_refresh = 0  # the period is over: the next unknown kid fetches once
        assert (await issuers.verify(provider.token(kid="k9"))).client_id == "idp:reporting-app"
        assert provider.fetches == 2
    finally:
        await issuers.aclose()


@pytest.mark.asyncio
async def test_an_unreachable_jwks_is_503_not_a_forgery(
    tmp_path: Path, gateway_db: str, indicators_url: str, idp: tuple[IdentityProvider, str]
) -> None:
    provider, url = idp
    provider.up = False
    settings = gateway_settings(
        tmp_path, gateway_db, indicators_url, external_issuers=[issuer(url)]
    )
    async with running(create_app(settings)) as gateway:
        answer = await gateway.get("/v1/me", headers=bearer(provider.token()))
    assert answer.status_code == 503
    assert answer.json()["code"] == "gateway.issuer_unavailable"


def test_an_external_issuer_cannot_grant_clients_admin_or_an_unknown_tier(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not scopes an external token may grant"):
        Settings(
            data_dir=tmp_path,
            external_issuers=[issuer("http://x", scope_map={"admin": "clients:admin"})],
        )
    with pytest.raises(ValidationError, match="is not a quota tier"):
        Settings(data_dir=tmp_path, external_issuers=[issuer("http://x", tier="platinum")])
