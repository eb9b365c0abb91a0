"""OAuth2 client credentials, Bearer tokens and scopes, against a live indicators service."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jwt
import pytest
import pytest_asyncio

from chiso_gateway.auth import clients
from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_shared.db import create_engine, create_sessionmaker
from tests.support import free_port, running

pytestmark = pytest.mark.asyncio
SECRET = "test-signing-key-0123456789abcdef0123456789"


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=gateway_db,
        indicators_url=indicators_url,
        ingest_url=f"http://127.0.0.1:{free_port()}",
        jwt_secret=SECRET,
    )


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        yield http


async def new_client(settings: Settings, scopes: list[str]) -> clients.NewClient:
    engine = create_engine(settings.resolved_database_url())
    async with create_sessionmaker(engine)() as session:
        created = await clients.create(session, "test", scopes, org="stttt-test")
        await session.commit()
    await engine.dispose()
    return created


async def token_for(gateway: httpx.AsyncClient, created: clients.NewClient) -> str:
    response = await gateway.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(created.client_id, created.client_secret),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_token_in_wso2_shape_and_claims(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    created = await new_client(settings, ["indicators:read", "catalog:read"])
    response = await gateway.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": created.client_id,
            "client_secret": created.client_secret,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == settings.token_ttl_seconds
    assert body["scope"] == "indicators:read catalog:read"
    published = jwt.PyJWKSet.from_dict((await gateway.get("/.well-known/jwks.json")).json())
    kid = jwt.get_unverified_header(body["access_token"])["kid"]
    key = next(key for key in published.keys if key.key_id == kid)
    claims = jwt.decode(body["access_token"], key, algorithms=["EdDSA"], issuer="chiso-gateway")
    assert claims["sub"] == created.client_id
    assert claims["org"] == "stttt-test"
    assert claims["jti"] and claims["exp"] > time.time()


async def test_a_valid_token_reads_indicators(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    token = await token_for(gateway, await new_client(settings, ["indicators:read"]))
    response = await gateway.get("/v1/indicators", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "meta", "links"}
    assert "telecom.subscribers.total" in {row["code"] for row in body["data"]}
    assert response.headers["X-Request-ID"]


async def test_scope_subset_can_be_asked(gateway: httpx.AsyncClient, settings: Settings) -> None:
    created = await new_client(settings, ["indicators:read", "documents:write"])
    response = await gateway.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "indicators:read"},
        auth=(created.client_id, created.client_secret),
    )
    assert response.json()["scope"] == "indicators:read"
    wider = await gateway.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "audit:read"},
        auth=(created.client_id, created.client_secret),
    )
    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"


async def test_wrong_secret_and_unknown_client_are_401(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    created = await new_client(settings, ["indicators:read"])
    for user, secret in ((created.client_id, "wrong"), ("ch_unknown", "whatever")):
        response = await gateway.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(user, secret)
        )
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert "WWW-Authenticate" in response.headers


async def test_unsupported_grant_is_400(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/oauth2/token", data={"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


async def test_revoked_client_cannot_get_a_token(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    created = await new_client(settings, ["indicators:read"])
    engine = create_engine(settings.resolved_database_url())
    async with create_sessionmaker(engine)() as session:
        assert await clients.revoke(session, created.client_id)
        await session.commit()
    await engine.dispose()
    response = await gateway.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(created.client_id, created.client_secret),
    )
    assert response.status_code == 401


async def test_missing_token_is_401_with_challenge(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/v1/indicators")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "gateway.token_missing"


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda: "not.a.jwt", "gateway.token_invalid"),
        (
            lambda: jwt.encode(
                {"sub": "x", "jti": "1", "iss": "chiso-gateway", "exp": int(time.time()) - 10},
                SECRET,
                algorithm="HS256",
            ),
            "gateway.token_expired",
        ),
        (
            lambda: jwt.encode(
                {
                    "sub": "x",
                    "jti": "1",
                    "iss": "chiso-gateway",
                    "exp": int(time.time()) + 60,
                    "scope": "indicators:read",
                },
                "another-key-of-sufficient-length-0123456789",
                algorithm="HS256",
            ),
            "gateway.token_invalid",
        ),
    ],
)
async def test_bad_tokens_are_401(gateway: httpx.AsyncClient, make_token, code: str) -> None:
    response = await gateway.get(
        "/v1/indicators", headers={"Authorization": f"Bearer {make_token()}"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_missing_scope_is_403(gateway: httpx.AsyncClient, settings: Settings) -> None:
    token = await token_for(gateway, await new_client(settings, ["documents:write"]))
    response = await gateway.get("/v1/indicators", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["code"] == "gateway.scope_missing"


async def test_upstream_down_is_a_quick_502(gateway: httpx.AsyncClient, settings: Settings) -> None:
    token = await token_for(gateway, await new_client(settings, ["documents:write"]))
    started = time.monotonic()
    response = await gateway.get(
        "/v1/documents/00000000-0000-0000-0000-000000000000",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 502
    assert response.headers["X-Gateway-Error"] == "ingest:unreachable"
    assert response.json()["code"] == "gateway.upstream_unreachable"
    assert time.monotonic() - started < settings.http.connect_timeout + 1


async def test_basic_header_is_parsed() -> None:
    # A malformed Basic header must not crash the token endpoint's parser.
    from starlette.requests import Request

    from chiso_gateway.auth.router import _basic

    def request(value: str) -> Request:
        return Request({"type": "http", "headers": [(b"authorization", value.encode())]})

    assert _basic(request("Basic !!!")) is None
    encoded = base64.b64encode(b"id:se:cret").decode()
    assert _basic(request(f"Basic {encoded}")) == ("id", "se:cret")
