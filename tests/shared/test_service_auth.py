"""Service token settings: required and long enough in prod, a shared dev key otherwise."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import jwt
import pytest

from chiso_indicators.main import create_app as indicators_app
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.settings import Settings as IngestSettings
from chiso_shared.service_auth import (
    DEV_KEY_FILE,
    READ,
    WRITE,
    ServiceTokenConfigError,
    ServiceTokens,
)
from tests.support import SERVICES


@pytest.fixture
def no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    for service in SERVICES:
        monkeypatch.delenv(f"CHISO_{service.upper()}_SERVICE_TOKEN_SECRET", raising=False)


def test_prod_requires_a_secret(no_secret: None, tmp_path: Path) -> None:
    settings = IngestSettings(env="prod", data_dir=tmp_path)
    with pytest.raises(ServiceTokenConfigError, match="CHISO_INGEST_SERVICE_TOKEN_SECRET"):
        settings.resolved_service_token_secret()
    assert not (tmp_path / DEV_KEY_FILE).exists()


def test_prod_requires_32_bytes(tmp_path: Path) -> None:
    short = IngestSettings(env="prod", data_dir=tmp_path, service_token_secret="x" * 31)
    with pytest.raises(ServiceTokenConfigError, match="at least 32 bytes"):
        short.resolved_service_token_secret()
    enough = IngestSettings(env="prod", data_dir=tmp_path, service_token_secret="x" * 32)
    assert enough.resolved_service_token_secret() == "x" * 32


@pytest.mark.asyncio
async def test_an_app_in_prod_without_a_secret_does_not_start(
    no_secret: None, tmp_path: Path, indicators_db: str
) -> None:
    settings = IndicatorsSettings(
        env="prod", data_dir=tmp_path, database_url=indicators_db, migrate_on_start=True
    )
    app = indicators_app(settings)
    with pytest.raises(ServiceTokenConfigError):
        async with app.router.lifespan_context(app):
            pass


def test_dev_shares_one_logged_key_in_the_data_dir(
    no_secret: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="chiso.service_auth"):
        ingest = IngestSettings(data_dir=tmp_path).resolved_service_token_secret()
    indicators = IndicatorsSettings(data_dir=tmp_path).resolved_service_token_secret()
    assert ingest == indicators and len(ingest) >= 32
    key = tmp_path / DEV_KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "CHISO_INGEST_SERVICE_TOKEN_SECRET" in caplog.text
    assert [p.name for p in tmp_path.iterdir()] == [DEV_KEY_FILE]  # no temporary file left


def test_tokens_are_reused_until_half_their_life_is_left() -> None:
    now = [1_000_000.0]
    tokens = ServiceTokens("s" * 32, "gateway", ttl=60, clock=lambda: now[0])
    first = tokens.token("indicators", [READ])
    now[0] += 29
    assert tokens.token("indicators", [READ]) == first
    assert tokens.token("ingest", [READ, WRITE]) != first
    now[0] += 2
    renewed = tokens.token("indicators", [READ])
    assert renewed != first
    claims = jwt.decode(
        renewed,
        "s" * 32,
        algorithms=["HS256"],
        audience="indicators",
        options={"verify_exp": False},
    )
    assert (claims["iss"], claims["scope"], claims["exp"] - claims["iat"]) == (
        "gateway",
        "read",
        60,
    )
