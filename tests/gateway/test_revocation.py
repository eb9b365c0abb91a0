"""Revoked clients lose their live tokens within `client_check_seconds`; tokens are verified
once and remembered until they expire (the token endpoint's limits: test_token_limits)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import jwt
import pytest
import pytest_asyncio

from chiso_gateway.auth import tokens
from chiso_gateway.auth.clients import ActiveClients
from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from chiso_shared.db import create_engine, create_sessionmaker
from tests.gateway.support import SECRET, bearer, gateway_settings, new_client
from tests.support import running

pytestmark = pytest.mark.asyncio


def revoke_with_cli(settings: Settings, client_id: str, data_dir: Path) -> None:
    env = {
        **os.environ,
        "CHISO_GATEWAY_DATABASE_URL": settings.resolved_database_url(),
        "CHISO_GATEWAY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "chiso", "clients", "revoke", client_id]
    done = subprocess.run(
        [*command, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


async def test_a_revoked_clients_live_token_stops_working(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    # A check period of 0 asks the database on every request: no sleeping in the test.
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, client_check_seconds=0)
    async with running(create_app(settings)) as gateway:
        created = await new_client(settings, ["indicators:read"])
        other = await new_client(settings, ["indicators:read"])
        headers, others = await bearer(gateway, created), await bearer(gateway, other)
        assert (await gateway.get("/v1/indicators", headers=headers)).status_code == 200

        revoke_with_cli(settings, created.client_id, tmp_path)

        refused = await gateway.get("/v1/indicators", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["code"] == "gateway.client_revoked"
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        # Only that client's tokens: the other client goes on.
        assert (await gateway.get("/v1/indicators", headers=others)).status_code == 200
        again = await gateway.post(
            "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(created.client_id, created.client_secret),
        )
        assert again.status_code == 401


@pytest_asyncio.fixture
async def settings_db(tmp_path: Path, gateway_db: str) -> Settings:
    from chiso_gateway.db import migrate_async

    settings = gateway_settings(tmp_path, gateway_db, "http://127.0.0.1:9")
    await migrate_async(settings.resolved_database_url())
    return settings


async def test_the_active_state_is_trusted_for_the_check_period(settings_db: Settings) -> None:
    created = await new_client(settings_db, ["indicators:read"])
    engine = create_engine(settings_db.resolved_database_url())
    try:
        sessionmaker = create_sessionmaker(engine)
        patient, strict = ActiveClients(sessionmaker, 3600), ActiveClients(sessionmaker, 0)
        assert await patient.is_active(created.client_id)
        assert await strict.is_active(created.client_id)
        revoke_with_cli(settings_db, created.client_id, settings_db.data_dir)
        # Within the period the remembered answer stands; after it (here: 0 s), it is re-read.
        assert await patient.is_active(created.client_id)
        assert not await strict.is_active(created.client_id)
        assert not await strict.is_active("ch_never_existed")
    finally:
        await engine.dispose()


async def test_verified_tokens_are_remembered_until_they_expire() -> None:
    verifier = tokens.Verifier(key=SECRET, issuer="chiso-gateway", max_entries=2)
    token = tokens.issue(
        key=SECRET, issuer="chiso-gateway", client_id="ch_a", org="", scopes=["x"], ttl=60
    )
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # remembered, not decoded again
    assert len(verifier.known) == 1 and token.encode() not in verifier.known
    with pytest.raises(jwt.ExpiredSignatureError):
        verifier.verify(token, now=first.expires_at)  # past `exp`, even when remembered
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    with pytest.raises(jwt.InvalidTokenError):
        verifier.verify(forged)
    for client in ("ch_b", "ch_c", "ch_d"):  # bounded
        verifier.verify(
            tokens.issue(
                key=SECRET, issuer="chiso-gateway", client_id=client, org="", scopes=[], ttl=60
            )
        )
    assert len(verifier.known) == 2


async def test_a_client_revokes_one_of_its_tokens(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, client_check_seconds=0)
    async with running(create_app(settings)) as gateway:
        created = await new_client(settings, ["indicators:read"])
        other = await new_client(settings, ["indicators:read"])
        first, second = await bearer(gateway, created), await bearer(gateway, created)
        token = first["Authorization"].removeprefix("Bearer ")
        auth = (created.client_id, created.client_secret)

        # Another client cannot revoke it, and a wrong secret is refused.
        refused = await gateway.post(
            "/oauth2/revoke", data={"token": token}, auth=(other.client_id, other.client_secret)
        )
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")
        wrong = await gateway.post("/oauth2/revoke", data={"token": token}, auth=(auth[0], "x"))
        assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
        missing = await gateway.post("/oauth2/revoke", data={}, auth=auth)
        assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
        assert (await gateway.get("/v1/indicators", headers=first)).status_code == 200

        revoked = await gateway.post(
            "/oauth2/revoke", data={"token": token, "token_type_hint": "access_token"}, auth=auth
        )
        assert (revoked.status_code, revoked.content) == (200, b"")
        assert revoked.headers["Cache-Control"] == "no-store"
        gone = await gateway.get("/v1/indicators", headers=first)
        assert (gone.status_code, gone.json()["code"]) == (401, "gateway.token_revoked")
        assert 'error="invalid_token"' in gone.headers["WWW-Authenticate"]
        # Only that token: the client's other token goes on.
        assert (await gateway.get("/v1/indicators", headers=second)).status_code == 200

        # Revoking again, or a token that is no token, is not an error (RFC 7009 §2.2).
        for again in (token, "not-a-token"):
            answer = await gateway.post("/oauth2/revoke", data={"token": again}, auth=auth)
            assert answer.status_code == 200
