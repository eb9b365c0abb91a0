"""The anonymous read tier: off by default; when on, reads without a token are served and
counted per caller address under their own tier, and nothing else opens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import ValidationError

from chiso_gateway.main import create_app
from chiso_gateway.settings import Settings
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import running

pytestmark = pytest.mark.asyncio
TIERS = {"tiny": 2, "standard": 600}
SERIES = "/v1/indicators/telecom.subscribers.total/series?area=38"


def settings_for(tmp_path: Path, gateway_db: str, indicators_url: str, **extra: object) -> Settings:
    # An hour-long window, so a slow run cannot straddle two windows and reset the count.
    return gateway_settings(
        tmp_path,
        gateway_db,
        indicators_url,
        quota_tiers=TIERS,
        quota_window_seconds=3600,
        cache_ttl_seconds=0,
        **extra,
    )


@pytest_asyncio.fixture
async def closed(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings_for(tmp_path, gateway_db, indicators_url))) as http:
        yield http


@pytest_asyncio.fixture
async def opened(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Settings]]:
    settings = settings_for(
        tmp_path, gateway_db, indicators_url, anonymous_read=True, anonymous_tier="tiny"
    )
    async with running(create_app(settings)) as http:
        yield http, settings


async def test_reads_need_a_token_by_default(closed: httpx.AsyncClient) -> None:
    for path in ("/v1/indicators", SERIES, "/v1/areas/38/summary"):
        answer = await closed.get(path)
        assert answer.status_code == 401, path
        assert answer.json()["code"] == "gateway.token_missing"


async def test_anonymous_reads_are_served_and_counted_per_address(
    opened: tuple[httpx.AsyncClient, Settings],
) -> None:
    http, _ = opened
    first = await http.get("/v1/indicators")
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "2"  # the anonymous tier's, not standard's
    # The fast series route takes the same door.
    assert (await http.get(SERIES)).status_code in (200, 404)
    refused = await http.get("/v1/indicators")
    assert refused.status_code == 429
    assert refused.json()["code"] == "gateway.quota_exceeded"


async def test_a_token_still_counts_as_its_own_client(
    opened: tuple[httpx.AsyncClient, Settings],
) -> None:
    http, settings = opened
    for _ in range(2):
        await http.get("/v1/indicators")
    assert (await http.get("/v1/indicators")).status_code == 429
    headers = await bearer(http, await new_client(settings, ["indicators:read"]))
    assert (await http.get("/v1/indicators", headers=headers)).status_code == 200


async def test_nothing_but_reads_opens(opened: tuple[httpx.AsyncClient, Settings]) -> None:
    http, _ = opened
    upload = await http.post("/v1/documents", json={"filename": "a.txt", "text": "x"})
    assert upload.status_code == 401
    assert (await http.get("/v1/catalog")).status_code == 401
    assert (await http.get("/v1/audit")).status_code == 401


async def test_a_bad_token_is_refused_not_taken_for_anonymous(
    opened: tuple[httpx.AsyncClient, Settings],
) -> None:
    http, _ = opened
    answer = await http.get("/v1/indicators", headers={"Authorization": "Bearer nonsense"})
    assert answer.status_code == 401
    assert answer.json()["code"] == "gateway.token_invalid"


async def test_the_anonymous_tier_must_be_a_quota_tier(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    with pytest.raises(ValidationError, match="ANONYMOUS_TIER 'platinum'"):
        settings_for(
            tmp_path, gateway_db, indicators_url, anonymous_read=True, anonymous_tier="platinum"
        )
