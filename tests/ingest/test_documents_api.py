"""POST /v1/documents and the document reads (the worker is off: nothing is extracted here)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from tests.support import running

pytestmark = pytest.mark.asyncio
REPORT = "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao."


@pytest_asyncio.fixture
async def client(tmp_path: Path, ingest_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        run_worker=False,
        max_upload_bytes=10_000,
        max_chars=5_000,
    )
    async with running(create_app(settings)) as http:
        yield http


async def post_json(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/v1/documents", json={"filename": "bao-cao.txt", **body})


async def test_json_text_is_accepted_and_queued(client: httpx.AsyncClient) -> None:
    response = await post_json(client, text=REPORT, published="2023-12-20", scope="VN-40")
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    assert accepted["duplicate"] is False
    assert accepted["status_url"].endswith(f"/v1/documents/{accepted['id']}")

    status = (await client.get(f"/v1/documents/{accepted['id']}")).json()
    assert (status["filename"], status["published"], status["scope"]) == (
        "bao-cao.txt",
        "2023-12-20",
        "VN-40",
    )
    assert status["chars"] == len(REPORT)
    text = await client.get(f"/v1/documents/{accepted['id']}/text")
    assert text.text == REPORT
    facts = (await client.get(f"/v1/documents/{accepted['id']}/facts")).json()
    assert facts["facts"] == []


async def test_same_text_is_one_document(client: httpx.AsyncClient) -> None:
    first = (await post_json(client, text=REPORT)).json()
    # Same text after normalisation: CRLF and a decomposed (NFD) "ệ" collapse to the same NFC.
    import unicodedata

    again = await post_json(
        client, filename="copy.txt", text=unicodedata.normalize("NFD", REPORT) + ""
    )
    assert again.json()["id"] == first["id"]
    assert again.json()["duplicate"] is True


async def test_multipart_upload_with_metadata(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/documents",
        files={"file": ("nghe-an.txt", REPORT.encode("utf-16"), "text/plain")},
        data={"published": "2023", "title": "Báo cáo năm"},
    )
    assert response.status_code == 202, response.text
    status = (await client.get(f"/v1/documents/{response.json()['id']}")).json()
    assert (status["filename"], status["title"], status["published"]) == (
        "nghe-an.txt",
        "Báo cáo năm",
        "2023",
    )
    text = await client.get(f"/v1/documents/{response.json()['id']}/text")
    assert text.text == REPORT


async def test_base64_content(client: httpx.AsyncClient) -> None:
    encoded = base64.b64encode(b"\xef\xbb\xbf" + REPORT.encode()).decode()
    response = await post_json(client, content_base64=encoded, media_type="text/plain")
    assert response.status_code == 202
    text = await client.get(f"/v1/documents/{response.json()['id']}/text")
    assert text.text == REPORT


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"text": "   \n  "}, 422, "ingest.empty"),
        ({"text": "x" * 6000}, 413, "ingest.too_many_chars"),
        ({"content_base64": "%%%"}, 422, "ingest.invalid"),
        ({"text": REPORT, "content_base64": "eA=="}, 422, "ingest.invalid"),
        ({}, 422, "ingest.invalid"),
        ({"text": REPORT, "published": "23/12/2023"}, 422, "ingest.invalid"),
        ({"text": REPORT, "scope": "Thanh Hoa"}, 422, "ingest.invalid"),
        ({"text": REPORT, "scope": "VN-99"}, 422, "ingest.invalid"),
        (
            {
                "content_base64": base64.b64encode(b"%PDF-1.7 ...").decode(),
                "media_type": "application/pdf",
            },
            422,
            "ingest.bad_pdf",
        ),
        (
            {
                "content_base64": base64.b64encode(b"\x89PNG....").decode(),
                "media_type": "image/png",
            },
            415,
            "ingest.unsupported_media_type",
        ),
        (
            {"content_base64": base64.b64encode(b"caf\xe9 \xff").decode()},
            422,
            "ingest.unknown_encoding",
        ),
    ],
)
async def test_refusals_are_4xx_problems(
    client: httpx.AsyncClient, kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = await post_json(client, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


async def test_oversized_upload_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/documents", files={"file": ("big.txt", b"a" * 20_000, "text/plain")}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "ingest.too_large"


async def test_other_request_types_are_415(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/documents", content=b"<xml/>", headers={"content-type": "application/xml"}
    )
    assert response.status_code == 415


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/documents", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "ingest.bad_json"


async def test_unknown_document_is_404(client: httpx.AsyncClient) -> None:
    for suffix in ("", "/facts", "/text"):
        response = await client.get(f"/v1/documents/nope{suffix}")
        assert response.status_code == 404
        assert response.json()["code"] == "ingest.unknown_document"


async def test_refusal_loses_nothing_already_accepted(client: httpx.AsyncClient) -> None:
    kept = (await post_json(client, text=REPORT)).json()["id"]
    assert (await post_json(client, text="")).status_code == 422
    assert (await client.get(f"/v1/documents/{kept}")).status_code == 200
