"""People by name: `GET /v1/me` says who the caller is, and every answer that names an
uploader or a reviewer by client id carries `meta.people`, the names of those ids from the
client register, with real ingest and indicators services behind the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete

from chiso_gateway.db.models import Client
from chiso_gateway.main import create_app
from chiso_gateway.people import ids_in
from chiso_gateway.settings import Settings
from chiso_shared.db import create_engine, create_sessionmaker
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.gateway.test_revocation import revoke_with_cli
from tests.support import running

REPORT = "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao.\n"
AN, BINH = "Nguyễn Văn An", "Trần Thị Bình"
SUBSCRIBERS = "telecom.subscribers.total"


# ---------------------------------------------------------------- GET /v1/me


@pytest.mark.asyncio
async def test_me_names_the_caller_of_a_token_of_any_scope(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(tmp_path, gateway_db, indicators_url, client_check_seconds=0)
    async with running(create_app(settings)) as gateway:
        created = await new_client(
            settings,
            ["facts:review", "documents:write"],
            name=AN,
            org="stttt-nghe-an",
            area="40",
        )
        headers = await bearer(gateway, created)
        answer = await gateway.get("/v1/me", headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        me = answer.json()["data"]
        expires = datetime.fromisoformat(me.pop("expires_at"))
        assert me == {
            "client_id": created.client_id,
            "name": AN,
            "org": "stttt-nghe-an",
            "area": "40",
            "scopes": ["documents:write", "facts:review"],
            "tier": "standard",
        }
        left = (expires - datetime.now(UTC)).total_seconds()
        assert 0 < left <= settings.token_ttl_seconds

        revoke_with_cli(settings, created.client_id, tmp_path)
        revoked = await gateway.get("/v1/me", headers=headers)
        assert (revoked.status_code, revoked.json()["code"]) == (401, "gateway.client_revoked")

        missing = await gateway.get("/v1/me")
        assert (missing.status_code, missing.json()["code"]) == (401, "gateway.token_missing")
        forged = await gateway.get("/v1/me", headers={"Authorization": "Bearer x.y.z"})
        assert (forged.status_code, forged.json()["code"]) == (401, "gateway.token_invalid")


@pytest.mark.asyncio
async def test_me_without_a_token_is_the_anonymous_caller_when_that_tier_is_on(
    tmp_path: Path, gateway_db: str, indicators_url: str
) -> None:
    settings = gateway_settings(
        tmp_path, gateway_db, indicators_url, anonymous_read=True, anonymous_tier="bronze"
    )
    async with running(create_app(settings)) as gateway:
        answer = await gateway.get("/v1/me")
        assert answer.status_code == 200, answer.text
        me = answer.json()["data"]
        assert me["client_id"].startswith("anonymous@")
        assert (me["name"], me["scopes"], me["tier"], me["expires_at"]) == (
            "",
            ["indicators:read"],
            "bronze",
            None,
        )
        # A token still answers for its own client, anonymous tier or not.
        created = await new_client(settings, ["indicators:read"], name=BINH)
        mine = await gateway.get("/v1/me", headers=await bearer(gateway, created))
        assert mine.json()["data"]["name"] == BINH


# ---------------------------------------------------------------- meta.people


def test_the_ids_of_an_answer_are_found_at_any_depth() -> None:
    answer: dict[str, Any] = {
        "document": {"uploaded_by": "ch_a"},
        "facts": [{"review": {"by": "ch_b"}}, {"review": None}],
        "versions": [{"sources": [{"reviewed_by": "ch_c"}, {"reviewed_by": None}]}],
        "items": [{"reviewer": "ch_d", "after": {"review": {"by": "ch_e"}}}],
        "odd": [{"uploaded_by": "x" * 65}, {"reviewer": "ch_\x00"}, {"reviewer": ""}],
    }
    assert ids_in(answer) == {"ch_a", "ch_b", "ch_c", "ch_d", "ch_e"}


@pytest.fixture
def settings(tmp_path: Path, gateway_db: str, indicators_url: str, ingest_url: str) -> Settings:
    return gateway_settings(tmp_path, gateway_db, indicators_url, ingest_url=ingest_url)


@pytest_asyncio.fixture
async def gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(create_app(settings)) as http:
        yield http


async def upload(gateway: httpx.AsyncClient, headers: dict[str, str]) -> str:
    files = {"file": ("nghe-an.txt", REPORT.encode(), "text/plain")}
    answer = await gateway.post(
        "/v1/documents", files=files, data={"scope": "VN-40"}, headers=headers
    )
    assert answer.status_code == 202, answer.text
    document_id = str(answer.json()["data"]["id"])
    for _ in range(600):
        status = await gateway.get(f"/v1/documents/{document_id}", headers=headers)
        if status.json()["data"]["status"] == "delivered":
            return document_id
        assert status.json()["data"]["status"] != "failed", status.text
        await asyncio.sleep(0.05)
    raise AssertionError("not delivered")


async def reviewed_trace(gateway: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """The trace of Nghệ An's 2023 subscribers once the review has reached indicators."""
    query = {"indicator": SUBSCRIBERS, "area": "40", "period": "2023"}
    for _ in range(600):
        answer = await gateway.get("/v1/trace", params=query, headers=headers)
        if answer.status_code == 200:
            body: dict[str, Any] = answer.json()
            # Read while indicators imports the review, the observations and their sources
            # may come from either side of it (two statements, two snapshots): a version
            # without its sources is "not yet", like one whose source is not reviewed.
            sources = body["data"]["versions"][0]["sources"]
            if sources and sources[0]["reviewed_by"]:
                return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"the review did not reach the trace: {answer.text}")


async def forget_client(settings: Settings, client_id: str) -> None:
    engine = create_engine(settings.resolved_database_url())
    try:
        async with create_sessionmaker(engine)() as session:
            await session.execute(delete(Client).where(Client.client_id == client_id))
            await session.commit()
    finally:
        await engine.dispose()


@pytest.mark.asyncio
async def test_answers_name_the_uploader_and_the_reviewer(
    gateway: httpx.AsyncClient, settings: Settings
) -> None:
    officer = await new_client(settings, ["documents:write", "indicators:read"], name=AN)
    reviewer = await new_client(settings, ["facts:review", "indicators:read"], name=BINH)
    writer, checker = await bearer(gateway, officer), await bearer(gateway, reviewer)
    document_id = await upload(gateway, writer)

    listed = (await gateway.get("/v1/documents", headers=checker)).json()
    assert [item["uploaded_by"] for item in listed["data"]] == [officer.client_id]
    assert listed["meta"]["people"] == {officer.client_id: AN}
    view_path = f"/v1/documents/{document_id}/view"
    before = (await gateway.get(view_path, headers=writer)).json()
    assert before["meta"]["people"] == {officer.client_id: AN}  # no fact reviewed yet
    phones = next(f for f in before["data"]["facts"] if f["text"] == "3.100.000")

    path = f"/v1/documents/{document_id}/reviews"
    review = {"action": "correct", "start": phones["start"], "end": phones["end"]}
    posted = await gateway.post(
        path, json={**review, "changes": {"value": 3150000}}, headers=checker
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["meta"]["people"] == {reviewer.client_id: BINH}
    after = (await gateway.get(view_path, headers=writer)).json()
    assert after["meta"]["people"] == {officer.client_id: AN, reviewer.client_id: BINH}
    history = (await gateway.get(path, headers=checker)).json()
    assert history["meta"]["people"] == {reviewer.client_id: BINH}

    trace = await reviewed_trace(gateway, writer)
    assert trace["data"]["versions"][0]["sources"][0]["reviewed_by"] == reviewer.client_id
    assert trace["meta"]["people"] == {reviewer.client_id: BINH}
    summary = (await gateway.get("/v1/areas/40/summary", headers=writer)).json()
    card = next(row for row in summary["data"]["indicators"] if row["indicator"] == SUBSCRIBERS)
    assert card["source"]["reviewed_by"] == reviewer.client_id
    assert summary["meta"]["people"] == {reviewer.client_id: BINH}
    compare = await gateway.get(
        "/v1/compare", params={"indicator": SUBSCRIBERS, "areas": "40"}, headers=writer
    )
    assert compare.json()["meta"]["people"] == {reviewer.client_id: BINH}

    # A client gone from the register: its id stays, with no name beside it.
    await forget_client(settings, officer.client_id)
    listed = (await gateway.get("/v1/documents", headers=checker)).json()
    assert [item["uploaded_by"] for item in listed["data"]] == [officer.client_id]
    assert listed["meta"]["people"] == {}
