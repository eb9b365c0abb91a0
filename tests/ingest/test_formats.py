"""Every accepted format through POST /v1/documents, with files the tests build themselves."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from chiso_ingest.formats import legacy
from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from tests.ingest.builders import (
    DOCX,
    encrypted_pdf,
    make_docx,
    make_pdf,
    to_cp1258,
    to_tcvn3,
    unicode_font,
)
from tests.support import free_port, running

pytestmark = pytest.mark.asyncio
REPORT = (
    "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao, "
    "tăng 4,4% so với cùng kỳ."
)


@pytest_asyncio.fixture
async def client(tmp_path: Path, ingest_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=ingest_db,
        # Extraction runs; delivery has nowhere to go, so documents stop at "extracted".
        indicators_url=f"http://127.0.0.1:{free_port()}",
        poll_interval=0.05,
        retry_base_seconds=30,
        retry_max_seconds=60,
    )
    async with running(create_app(settings)) as http:
        yield http


async def upload(
    client: httpx.AsyncClient, name: str, content: bytes, media_type: str, **data: str
) -> dict[str, Any]:
    response = await client.post(
        "/v1/documents", files={"file": (name, content, media_type)}, data=data
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


async def settled(client: httpx.AsyncClient, document_id: str) -> dict[str, Any]:
    for _ in range(400):
        status = (await client.get(f"/v1/documents/{document_id}")).json()
        if status["status"] not in ("queued", "extracting"):
            return dict(status)
        await asyncio.sleep(0.05)
    raise AssertionError(f"document {document_id} was not extracted: {status}")


async def text_of(client: httpx.AsyncClient, document_id: str) -> str:
    return (await client.get(f"/v1/documents/{document_id}/text")).text


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        (lambda text: text.encode("utf-8"), "utf-8"),
        (lambda text: text.encode("utf-8-sig"), "utf-8-sig"),
        (lambda text: text.encode("utf-16"), "utf-16"),
        (lambda text: text.encode("utf-16-le"), "utf-16-le"),
        (lambda text: text.encode("utf-16-be"), "utf-16-be"),
        (to_cp1258, "windows-1258"),
        (to_tcvn3, "tcvn3"),
    ],
)
async def test_text_encodings_read_as_the_same_text(
    client: httpx.AsyncClient, encode: Any, encoding: str
) -> None:
    accepted = await upload(client, "bao-cao.txt", encode(REPORT), "text/plain")
    assert await text_of(client, accepted["id"]) == REPORT
    status = (await client.get(f"/v1/documents/{accepted['id']}")).json()
    assert status["encoding"] == encoding


async def test_vni_text_is_converted(client: httpx.AsyncClient) -> None:
    # "Xin chào các bạn" in VNI-Windows, as vietnamese-conversion documents it, plus a sentence.
    vni = "Xin chaøo caùc baïn. Naêm 2023, toång soá thueâ bao cuûa tænh ñaït 3.100.000."
    accepted = await upload(client, "vni.txt", vni.encode("cp1252"), "text/plain")
    assert await text_of(client, accepted["id"]) == (
        "Xin chào các bạn. Năm 2023, tổng số thuê bao của tỉnh đạt 3.100.000."
    )


async def test_legacy_encodings_give_the_same_facts_as_unicode(
    client: httpx.AsyncClient,
) -> None:
    unicode = await upload(client, "u.txt", REPORT.encode(), "text/plain", scope="VN-40")
    await settled(client, unicode["id"])
    facts = (await client.get(f"/v1/documents/{unicode['id']}/facts")).json()["facts"]
    assert facts, "the sample report has facts"
    # The same text in TCVN3 is the same document: identity is the normalised text.
    again = await upload(client, "tcvn3.txt", to_tcvn3(REPORT), "text/plain")
    assert (again["id"], again["duplicate"]) == (unicode["id"], True)


async def test_html_keeps_the_main_text_only(client: httpx.AsyncClient) -> None:
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Sở TT&TT</title>
    <script>var tracking = "Năm 2099 đạt 1 thuê bao";</script><style>p {{color: red}}</style>
    </head><body><nav><a href="/">Trang chủ</a> | <a href="/tin">Tin tức</a></nav>
    <article><h1>Báo cáo năm 2023</h1><p>{REPORT}</p></article>
    <footer>Bản quyền thuộc Sở Thông tin và Truyền thông</footer></body></html>"""
    accepted = await upload(client, "tin.html", page.encode(), "text/html")
    text = await text_of(client, accepted["id"])
    assert REPORT in text
    for noise in ("tracking", "2099", "Trang chủ", "Bản quyền", "color"):
        assert noise not in text


async def test_html_in_windows_1258_is_decoded(client: httpx.AsyncClient) -> None:
    page = f"<html><body><p>{REPORT}</p></body></html>"
    accepted = await upload(client, "tin.htm", to_cp1258(page), "text/html")
    assert REPORT in await text_of(client, accepted["id"])


async def test_docx_paragraphs_and_table_cells_with_provenance(
    client: httpx.AsyncClient,
) -> None:
    rows = [
        ["Chỉ tiêu", "Năm 2023"],
        ["Tổng số thuê bao điện thoại năm 2023 của tỉnh Nghệ An", "3.100.000 thuê bao"],
    ]
    content = make_docx([REPORT], [rows])
    accepted = await upload(client, "bao-cao.docx", content, DOCX, scope="VN-40")
    text = await text_of(client, accepted["id"])
    assert text.startswith(REPORT)
    assert f"{rows[1][0]} | {rows[1][1]}" in text  # a table row is one readable line

    layout = (await client.get(f"/v1/documents/{accepted['id']}/layout")).json()
    cells = {
        (r["table"], r["row"], r["cell"]): text[r["start"] : r["end"]] for r in layout["regions"]
    }
    assert cells == {
        (0, 0, 0): "Chỉ tiêu",
        (0, 0, 1): "Năm 2023",
        (0, 1, 0): rows[1][0],
        (0, 1, 1): rows[1][1],
    }
    status = await settled(client, accepted["id"])
    assert status["status"] == "extracted", status
    # A fact read from the table points back to its cell through the layout.
    facts = (await client.get(f"/v1/documents/{accepted['id']}/facts")).json()["facts"]
    value_cell = next(r for r in layout["regions"] if (r["row"], r["cell"]) == (1, 1))
    in_cell = [f for f in facts if value_cell["start"] <= f["start"] < value_cell["end"]]
    assert [(f["text"], f["indicator"]) for f in in_cell] == [
        ("3.100.000", "telecom.subscribers.total")
    ]


async def test_docx_in_a_tcvn3_font_is_converted(client: httpx.AsyncClient) -> None:
    legacy_text = to_tcvn3(REPORT).decode("latin-1")
    content = make_docx([legacy_text, "Unicode: Thuê bao"], font=".VnTime")
    accepted = await upload(client, "cu.docx", content, DOCX)
    assert await text_of(client, accepted["id"]) == f"{REPORT}\nUnicode: Thuê bao\n"
    status = (await client.get(f"/v1/documents/{accepted['id']}")).json()
    assert status["encoding"] == "tcvn3"


async def test_pdf_text_layer_with_pages(client: httpx.AsyncClient) -> None:
    if unicode_font() is None:
        pytest.skip("no DejaVu font to write Vietnamese into a PDF")
    second = "Doanh thu dịch vụ viễn thông năm 2023 đạt 1.200 tỷ đồng."
    accepted = await upload(client, "bao-cao.pdf", make_pdf([REPORT, second]), "application/pdf")
    text = await text_of(client, accepted["id"])
    assert " ".join(text.split()).startswith(REPORT)
    layout = (await client.get(f"/v1/documents/{accepted['id']}/layout")).json()["regions"]
    assert [region["page"] for region in layout] == [1, 2]
    assert " ".join(text[layout[1]["start"] : layout[1]["end"]].split()) == second


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
async def test_aes_pdf_with_an_empty_user_password_is_read(
    client: httpx.AsyncClient, algorithm: str
) -> None:
    content = encrypted_pdf("Doanh thu 2023 la 1.200 ty dong.", "", algorithm)
    accepted = await upload(client, "mo.pdf", content, "application/pdf")
    assert "1.200" in await text_of(client, accepted["id"])


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
async def test_pdf_with_a_user_password_is_refused_as_encrypted(
    client: httpx.AsyncClient, algorithm: str
) -> None:
    content = encrypted_pdf("Doanh thu 2023 la 1.200 ty dong.", "bi-mat", algorithm)
    response = await client.post(
        "/v1/documents", files={"file": ("khoa.pdf", content, "application/pdf")}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "ingest.encrypted_pdf"
    assert "encrypted with a password" in problem["detail"]


async def test_json_base64_docx_uses_the_file_name(client: httpx.AsyncClient) -> None:
    content = make_docx([REPORT])
    response = await client.post(
        "/v1/documents",
        json={"filename": "bao-cao.docx", "content_base64": base64.b64encode(content).decode()},
    )
    assert response.status_code == 202, response.text
    status = (await client.get(f"/v1/documents/{response.json()['id']}")).json()
    assert status["media_type"] == DOCX


async def test_vietnamese_score_prefers_the_right_decoding() -> None:
    assert legacy.guess(to_tcvn3(REPORT)) == legacy.Guess(
        "tcvn3", REPORT, legacy.vietnamese_score(REPORT)
    )
    assert legacy.guess(b"plain ascii \xff\xfe noise") is None
