"""The shared contracts: the fact schema, request ids and the outbound client."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from chiso_shared import catalogue
from chiso_shared.errors import NotFound, install_error_handlers
from chiso_shared.facts import DOUBT_DESCRIPTIONS, DoubtCode, Fact
from chiso_shared.http import create_http_client
from chiso_shared.request_id import RequestIdMiddleware, current_request_id

LEVEL = {
    "doc": "a.txt",
    "start": 0,
    "end": 5,
    "text": "1.000",
    "value": 1000,
    "unit": "count",
    "period": "2023",
}


@pytest.mark.parametrize(
    ("period", "valid"),
    [
        ("2023", True),
        ("2023-S1", True),
        ("2023-Q4", True),
        ("2023-11", True),
        ("2023-12-20", True),
        ("2021-12/2023-11", True),
        ("2023/2024", True),
        ("2023-13", False),
        ("2023-Q5", False),
        ("23", False),
        ("2023-11-32", False),
        ("2023-02-30", False),
        ("2024/2023", False),
        ("", False),
    ],
)
def test_a_fact_takes_only_periods_of_the_grammar(period: str, valid: bool) -> None:
    if valid:
        assert Fact.model_validate({**LEVEL, "period": period}).period == period
    else:
        with pytest.raises(ValidationError, match="period"):
            Fact.model_validate({**LEVEL, "period": period})


def test_a_period_stays_text_on_the_wire() -> None:
    """The JSON shape and the OpenAPI schema of `period` are a plain string."""
    fact = Fact.model_validate({**LEVEL, "period": "2023-01/2023-11"})
    assert fact.to_jsonl_dict()["period"] == "2023-01/2023-11"
    schema = Fact.model_json_schema()["properties"]["period"]
    assert schema["type"] == "string"
    assert "2023-01/2023-11" in schema["examples"]


def test_fact_defaults_and_jsonl_shape() -> None:
    fact = Fact.model_validate(LEVEL)
    data = fact.to_jsonl_dict()
    assert list(data) == [
        "doc",
        "start",
        "end",
        "text",
        "value",
        "unit",
        "item",
        "role",
        "basis",
        "of",
        "max",
        "period",
        "status",
        "indicator",
        "scope",
        "label",
        "doubts",
        "confidence",
    ]
    assert data["value"] == 1000 and isinstance(data["value"], int)
    assert (data["role"], data["status"]) == ("level", "actual")
    assert (data["doubts"], data["confidence"]) == ([], 1.0)  # facts stored before them load


@pytest.mark.parametrize(
    "change",
    [{"doubts": ["not_a_doubt"]}, {"confidence": 1.5}, {"confidence": -0.1}],
)
def test_doubts_are_known_codes_and_confidence_a_share(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="doubts|confidence"):
        Fact.model_validate({**LEVEL, **change})


def test_every_doubt_is_described_in_both_languages() -> None:
    described = Fact.model_json_schema()["properties"]["doubts"]["description"]
    for code in DoubtCode:
        vietnamese, english = DOUBT_DESCRIPTIONS[code]
        assert vietnamese and english and f"`{code.value}`" in described


@pytest.mark.parametrize(
    "change",
    [
        {"role": "change"},  # a change needs a basis
        {"basis": "plan"},  # a level has none
        {"unit": "parsecs"},
        {"scope": "Thanh Hoa"},
        {"start": 9, "end": 3},
    ],
)
def test_inconsistent_facts_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Fact.model_validate({**LEVEL, **change})


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app, "demo")

    @app.get("/id")
    async def read_id() -> dict[str, str | None]:
        return {"id": current_request_id()}

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("nothing here", code="demo.nothing")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.mark.asyncio
async def test_request_id_generated_echoed_and_sanitised() -> None:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        generated = await client.get("/id")
        assert generated.headers["X-Request-ID"] == generated.json()["id"]
        assert len(generated.json()["id"]) == 32
        given = await client.get("/id", headers={"X-Request-ID": "abc-123"})
        assert given.json()["id"] == "abc-123" == given.headers["X-Request-ID"]
        hostile = await client.get("/id", headers={"X-Request-ID": 'a b"<script>'})
        assert hostile.json()["id"] != 'a b"<script>'


@pytest.mark.asyncio
async def test_errors_are_problem_json_and_hide_internals() -> None:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        missing = await client.get("/missing")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        body = missing.json()
        assert (body["code"], body["type"]) == ("demo.nothing", "urn:chiso:problem:demo.nothing")
        assert body["request_id"] == missing.headers["X-Request-ID"]
        boom = await client.get("/boom")
        assert boom.status_code == 500
        assert "secret internals" not in boom.text
        unknown_route = await client.get("/nowhere")
        assert unknown_route.json()["code"] == "demo.not_found"


@pytest.mark.asyncio
async def test_outbound_client_passes_the_request_id() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("X-Request-ID"))
        return httpx.Response(200)

    app = FastAPI()
    app.add_middleware(RequestIdMiddleware)
    upstream = create_http_client(transport=httpx.MockTransport(handler), base_url="http://up")

    @app.get("/call")
    async def call() -> dict[str, bool]:
        await upstream.get("/x")
        return {"ok": True}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        await client.get("/call", headers={"X-Request-ID": "trace-7"})
    await upstream.aclose()
    assert seen == ["trace-7"]
    timeout = create_http_client().timeout
    assert (timeout.connect, timeout.read) == (2.0, 10.0)


def test_area_versions_follow_the_2025_merger() -> None:
    provinces = [a for a in catalogue.areas() if a.level == "province"]
    assert len([a for a in provinces if a.code_list == "2004"]) == 63
    assert len([a for a in provinces if a.code_list == "2025"]) == 34
    # every 2004 province names the 2025 province that took it over, and that one exists
    on_2025 = {a.code for a in provinces if a.code_list == "2025"}
    assert {a.successor for a in provinces if a.code_list == "2004"} == on_2025
    assert catalogue.area_on("24", date(2025, 6, 30)).name_vi == "Bắc Giang"  # type: ignore[union-attr]
    assert catalogue.area_on("24", date(2025, 7, 1)).name_vi == "Bắc Ninh"  # type: ignore[union-attr]
    assert catalogue.area_on("27", date(2026, 1, 1)).successor == "24"  # type: ignore[union-attr]
    assert catalogue.predecessors("37") == ("35", "36", "37")
    assert catalogue.area_on("99") is None


def test_area_codes_are_the_gsos_with_iso_beside_them() -> None:
    """Each 2004 province has its own ISO 3166-2 code (ISO has not coded the 2025 list); an
    input names an area by GSO code, by `iso:` code, or for one release by the old `VN-xx`."""
    provinces = [a for a in catalogue.areas() if a.level == "province"]
    iso = [a.iso_3166_2 for a in provinces if a.code_list == "2004"]
    assert all(code.startswith("VN-") for code in iso) and len(set(iso)) == 63
    assert not any(a.iso_3166_2 for a in provinces if a.code_list == "2025")
    # the codes ISO and the GSO both write as two digits do not name the same provinces
    assert (catalogue.resolve_area("iso:VN-01"), catalogue.resolve_area("01")) == ("12", "01")
    assert catalogue.resolve_area("VN-01") == "01"  # the old form: Hà Nội, for one release
    assert catalogue.resolve_area("ISO:vn-hn") == "01"
    assert [catalogue.resolve_area(v) for v in ("VN", "iso:VN-38", "VN-99", "38x")] == [
        "VN",
        None,
        None,
        None,
    ]
    assert catalogue.scope_of("38") == "VN-38" and catalogue.code_of_scope("VN-38") == "38"
    assert catalogue.code_of_scope("VN") == "VN" and catalogue.code_of_scope("38") is None
