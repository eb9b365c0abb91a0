"""Tokens other systems verify: the JWKS and RFC 8414 metadata over HTTP, checked with PyJWT
alone; key rotation with overlap; HS256 compatibility; prod refusing to run without keys."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import ValidationError

from chiso_gateway.auth import keys, tokens
from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from tests.gateway.support import SECRET, bearer, gateway_settings, new_client
from tests.support import running, serving


def token_over_http(url: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{url}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
@pytest.mark.asyncio
async def test_a_token_verifies_with_only_the_published_jwks(
    tmp_path: Path, gateway_db: str, indicators_url: str, algorithm: str
) -> None:
    settings = gateway_settings(
        tmp_path, gateway_db, indicators_url, jwt_algorithm=algorithm, jwt_secret=None
    )
    with serving(create_app(settings)) as url:
        created = await new_client(settings, ["indicators:read"])
        token = await asyncio.to_thread(
            token_over_http, url, created.client_id, created.client_secret
        )
        answer = await asyncio.to_thread(httpx.get, f"{url}/.well-known/jwks.json")
        # PyJWT's own client fetches the JWKS over HTTP and picks the key by the token's kid.
        client = jwt.PyJWKClient(f"{url}/.well-known/jwks.json", cache_keys=False)
        key = await asyncio.to_thread(client.get_signing_key_from_jwt, token)
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    claims = jwt.decode(token, key.key, algorithms=[algorithm], issuer="chiso-gateway")
    assert claims["sub"] == created.client_id and claims["scope"] == "indicators:read"
    (published,) = answer.json()["keys"]
    assert published["kid"] == key.key_id == keys.thumbprint(published)
    assert "d" not in published and "p" not in published  # never a private part
    # A token whose payload is changed no longer verifies with the published key.
    head, _, signature = token.split(".")
    forged_body = jwt.utils.base64url_encode(
        json.dumps({**claims, "scope": "audit:admin"}).encode()
    ).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{forged_body}.{signature}", key.key, algorithms=[algorithm])


def test_thumbprint_is_rfc_7638() -> None:
    # RFC 7638 §3.1's example key and its thumbprint.
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6"
        "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
        "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNL"
        "yrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJ"
        "zKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert keys.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.asyncio
async def test_metadata_is_rfc_8414(tmp_path: Path, gateway_db: str, indicators_url: str) -> None:
    public = "https://api.example.gov.vn"
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, public_url=public + "/")
    async with running(create_app(settings)) as gateway:
        answer = await gateway.get("/.well-known/oauth-authorization-server")
        created = await new_client(settings, ["indicators:read"])
        token = (await bearer(gateway, created))["Authorization"].removeprefix("Bearer ")
        # Tokens issued before PUBLIC_URL was set (issuer `chiso-gateway`) still work.
        old = tokens.issue(
            key=SECRET,
            issuer="chiso-gateway",
            client_id=created.client_id,
            org="",
            scopes=["indicators:read"],
            ttl=60,
        )
        old_read = await gateway.get("/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    body = answer.json()
    assert body["issuer"] == public  # RFC 8414 §2: a URL without query or fragment
    assert body["token_endpoint"] == f"{public}/oauth2/token"
    assert body["jwks_uri"] == f"{public}/.well-known/jwks.json"
    assert body["revocation_endpoint"] == f"{public}/oauth2/revoke"
    assert body["grant_types_supported"] == ["client_credentials"]
    assert body["response_types_supported"] == []
    assert "client_secret_basic" in body["token_endpoint_auth_methods_supported"]
    assert {"indicators:read", "clients:admin"} <= set(body["scopes_supported"])
    # The metadata's issuer is the tokens' `iss` (RFC 8414 §3.3 asks verifiers to compare).
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == public
    assert old_read.status_code == 200


@pytest.mark.asyncio
async def test_metadata_urls_follow_the_request_without_public_url(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url)
    async with running(create_app(settings)) as gateway:
        body = (await gateway.get("/.well-known/oauth-authorization-server")).json()
    assert body["issuer"] == "chiso-gateway"
    assert body["jwks_uri"] == "http://testserver/.well-known/jwks.json"


def ring_of(directory: Path, ttl: int = 600) -> keys.KeyRing:
    return keys.KeyRing(directory, token_ttl=ttl, reload_seconds=0)


def signed(key: keys.SigningKey) -> str:
    return tokens.issue(
        key=key, issuer="chiso-gateway", client_id="ch_a", org="", scopes=["x"], ttl=600
    )


def test_rotation_publishes_ahead_then_retires_after_the_token_lifetime(tmp_path: Path) -> None:
    now = time.time()
    a = keys.generate(tmp_path, "EdDSA")
    ring = ring_of(tmp_path)
    assert ring.signer(now).kid == a.kid
    b = keys.generate(tmp_path, "EdDSA", not_before=now + 3600)
    old = signed(a)
    verifier = tokens.Verifier(key=None, issuer="chiso-gateway", ring=ring, max_entries=0)

    # B is published at once but A still signs until B's time comes.
    assert {k["kid"] for k in ring.jwks(now)["keys"]} == {a.kid, b.kid}
    assert ring.signer(now).kid == a.kid
    # From then on B signs; A stays published for the token lifetime (and clock skew). (A
    # second on: B's time went through its sidecar's ISO text, to the microsecond.)
    later = now + 3601
    assert ring.signer(later).kid == b.kid
    assert {k["kid"] for k in ring.jwks(later + 600)["keys"]} == {a.kid, b.kid}
    assert ring.verification_key(a.kid, later + 600) is not None
    assert verifier.verify(old).key_id == a.kid
    # Once every token A signed has expired, A leaves the JWKS; its file can go.
    gone = later + 600 + keys.CLOCK_SKEW_SECONDS + 1
    assert [k["kid"] for k in ring.jwks(gone)["keys"]] == [b.kid]
    assert ring.verification_key(a.kid, gone) is None


def test_a_retired_key_stops_signing_and_leaves_after_its_tokens(tmp_path: Path) -> None:
    now = time.time()
    a = keys.generate(tmp_path, "EdDSA", not_before=now - 7200)
    b = keys.generate(tmp_path, "EdDSA", not_before=now - 3600)
    ring = ring_of(tmp_path)
    assert ring.signer(now).kid == b.kid
    # Retiring B (say it leaked into a log): A, the older key, signs again.
    keys.write_times(tmp_path / f"{b.name}.pem", not_before=b.not_before, retired_at=now)
    assert ring.signer(now + 1).kid == a.kid
    assert ring.verification_key(b.kid, now + 1) is not None  # its tokens still verify
    assert ring.verification_key(b.kid, now + 600 + keys.CLOCK_SKEW_SECONDS + 1) is None
    keys.write_times(tmp_path / f"{a.name}.pem", not_before=a.not_before, retired_at=now)
    with pytest.raises(keys.NoSigningKey):
        ring.signer(now + 1)


def test_bad_key_files_are_refused_and_a_bad_reload_keeps_the_keys(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    with pytest.raises(keys.KeyFileError, match="not an unencrypted PEM private key"):
        ring_of(tmp_path)
    (tmp_path / "bad.pem").unlink()
    with pytest.raises(keys.KeyFileError, match="holds no token signing key"):
        ring_of(tmp_path)
    a = keys.generate(tmp_path, "EdDSA")
    ring = ring_of(tmp_path)
    (tmp_path / f"{a.name}.json").write_text("{not json")
    assert ring.signer().kid == a.kid  # the reload failed; the keys read before stay


@pytest.mark.asyncio
async def test_two_gateways_sharing_the_key_dir_agree_through_a_rotation(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    shared = tmp_path / "jwt-keys"
    a = keys.generate(shared, "EdDSA")
    settings = [
        gateway_settings(
            tmp_path / name,
            gateway_db,
            indicators_url,
            jwt_keys_dir=shared,
            jwt_keys_reload_seconds=0,
            jwt_secret=None,
        )
        for name in ("one", "two")
    ]
    async with running(create_app(settings[0])) as one, running(create_app(settings[1])) as two:
        created = await new_client(settings[0], ["indicators:read"])

        async def kid_and_reads(issuer: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
            headers = await bearer(issuer, created)
            token = headers["Authorization"].removeprefix("Bearer ")
            return jwt.get_unverified_header(token)["kid"], headers

        async def reads(headers: dict[str, str]) -> list[int]:
            return [(await gw.get("/v1/me", headers=headers)).status_code for gw in (one, two)]

        async def published(gateway: httpx.AsyncClient) -> set[str]:
            body = (await gateway.get("/.well-known/jwks.json")).json()
            return {key["kid"] for key in body["keys"]}

        kid, from_a = await kid_and_reads(one)
        assert kid == a.kid and await reads(from_a) == [200, 200]

        # B is published ahead: both gateways publish it, A still signs on both.
        b = keys.generate(shared, "EdDSA", not_before=time.time() + 3600)
        assert await published(one) == await published(two) == {a.kid, b.kid}
        assert (await kid_and_reads(two))[0] == a.kid

        # B's time comes: both sign with B, and A's tokens still work on both.
        keys.write_times(shared / f"{b.name}.pem", not_before=time.time() - 1, retired_at=None)
        kid, from_b = await kid_and_reads(one)
        assert kid == b.kid and (await kid_and_reads(two))[0] == b.kid
        assert await reads(from_b) == [200, 200]
        assert await reads(from_a) == [200, 200]

        # Long after (B signing for longer than the token lifetime): A has left the JWKS of
        # both, and what it signed no longer verifies.
        past = time.time() - settings[0].token_ttl_seconds - keys.CLOCK_SKEW_SECONDS - 5
        keys.write_times(shared / f"{b.name}.pem", not_before=past, retired_at=None)
        assert await published(one) == await published(two) == {b.kid}
        assert await reads(from_a) == [401, 401]
        assert await reads(from_b) == [200, 200]


@pytest.mark.asyncio
async def test_hs256_tokens_verify_only_while_jwt_secret_is_set(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    async def me_with_old_token(**extra: Any) -> int:
        settings = gateway_settings(tmp_path, gateway_db, indicators_url, **extra)
        async with running(create_app(settings)) as gateway:
            created = await new_client(settings, ["indicators:read"])
            old = tokens.issue(
                key=SECRET,
                issuer="chiso-gateway",
                client_id=created.client_id,
                org="",
                scopes=["indicators:read"],
                ttl=600,
            )
            answer = await gateway.get("/v1/me", headers={"Authorization": f"Bearer {old}"})
        return answer.status_code

    assert await me_with_old_token() == 200  # JWT_SECRET set: accepted until it expires
    assert await me_with_old_token(jwt_secret=None) == 401


@pytest.mark.asyncio
async def test_hs256_mode_signs_with_the_secret_and_publishes_no_key(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, jwt_algorithm="HS256")
    async with running(create_app(settings)) as gateway:
        created = await new_client(settings, ["indicators:read"])
        token = (await bearer(gateway, created))["Authorization"].removeprefix("Bearer ")
        assert (await gateway.get("/.well-known/jwks.json")).json() == {"keys": []}
    assert jwt.decode(token, SECRET, algorithms=["HS256"], issuer="chiso-gateway")["sub"]


def test_prod_refuses_to_start_without_a_key_dir(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="phải được đặt khi env là prod.*must be set"):
        Settings(data_dir=tmp_path, env="prod", jwt_keys_dir=None)
    assert not (tmp_path / "jwt-keys").exists()  # nothing made behind the operator's back
    empty = tmp_path / "keys"
    empty.mkdir()
    with pytest.raises(RuntimeError, match="holds no token signing key"):
        Settings(data_dir=tmp_path, env="prod", jwt_keys_dir=empty).key_ring()
    assert not any(empty.iterdir())


def test_dev_makes_a_key_in_an_empty_key_dir(tmp_path: Path) -> None:
    """docker-compose gives the gateway a key volume, empty on a first try: dev fills it."""
    keys = tmp_path / "keys"
    keys.mkdir()
    ring = Settings(data_dir=tmp_path, env="dev", jwt_keys_dir=keys).key_ring()
    assert ring is not None and [path.name for path in keys.glob("*.pem")] == ["dev.pem"]


def test_the_keys_cli_generates_rotates_and_lists(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from chiso.cli import app

    runner = CliRunner()
    where = ["--dir", str(tmp_path)]
    assert runner.invoke(app, ["keys", "generate", *where]).exit_code == 0
    rotated = runner.invoke(app, ["keys", "rotate", *where, "--algorithm", "RS256"])
    assert rotated.exit_code == 0, rotated.output
    listed = runner.invoke(app, ["keys", "list", *where, "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {row["state"]: row for row in json.loads(listed.output)}
    assert set(rows) == {"signing", "published-ahead"}
    assert rows["signing"]["algorithm"] == "EdDSA"
    assert rows["published-ahead"]["algorithm"] == "RS256"
    assert rows["published-ahead"]["not_before"] is not None
    assert oct((tmp_path / rows["signing"]["file"]).stat().st_mode)[-3:] == "600"
    retired = runner.invoke(app, ["keys", "retire", rows["signing"]["kid"], *where])
    assert retired.exit_code == 0, retired.output
    states = {
        row["state"]
        for row in json.loads(runner.invoke(app, ["keys", "list", *where, "--json"]).output)
    }
    # With the old key retired, the new one signs before its time rather than none at all.
    assert states == {"signing", "retiring"}
    assert runner.invoke(app, ["keys", "retire", "nope", *where]).exit_code == 1


def test_dev_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    settings = [Settings(data_dir=tmp_path) for _ in range(2)]
    first = keys.generate(settings[0].resolved_keys_dir(), "EdDSA", name="dev")
    # The second process looked before the first wrote its key, and makes one too: it loses
    # the race and uses the first one's.
    second = keys.generate(settings[1].resolved_keys_dir(), "EdDSA", name="dev")
    assert second.kid == first.kid
    rings = [s.key_ring() for s in settings]
    assert [ring.signer().kid for ring in rings if ring] == [first.kid, first.kid]
    assert [p.name for p in (tmp_path / "jwt-keys").iterdir()] == ["dev.pem"]


@pytest.mark.parametrize(
    "url", ["api.example.gov.vn", "https://api.example.gov.vn/?x=1", "ftp://a"]
)
def test_public_url_must_be_a_base_url(tmp_path: Path, url: str) -> None:
    with pytest.raises(ValueError, match="is not a base URL"):
        Settings(data_dir=tmp_path, public_url=url)
