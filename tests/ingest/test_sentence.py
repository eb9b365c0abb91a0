"""GET /v1/documents/{id}/sentence: the sentence around a span, as the extractor reads them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from chiso_ingest.documents.sentences import _window
from chiso_ingest.main import create_app
from chiso_ingest.settings import Settings
from tests.support import running

REPORT = (
    "BÁO CÁO NĂM 2023\n"
    "Năm 2023, ngành thông tin và truyền thông của TP. Thanh Hóa phát triển. Tổng số thuê bao "
    "điện thoại ước đạt 2.980.000 thuê bao, tăng 4,44% so với cùng kỳ. Doanh thu tăng.\n"
    "Chỉ tiêu | 2022 | 2023\n"
)


@pytest_asyncio.fixture
async def client(tmp_path: Path, ingest_db: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        data_dir=tmp_path, database_url=ingest_db, run_worker=False, sentence_max_chars=100
    )
    async with running(create_app(settings)) as http:
        yield http


async def upload(client: httpx.AsyncClient, text: str) -> str:
    answer = await client.post("/v1/documents", json={"filename": "th.txt", "text": text})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


@pytest.mark.asyncio
async def test_the_sentence_around_a_number_with_the_number_inside_it(
    client: httpx.AsyncClient,
) -> None:
    document = await upload(client, REPORT)
    start = REPORT.index("2.980.000")
    answer = await client.get(
        f"/v1/documents/{document}/sentence", params={"start": start, "end": start + 9}
    )
    assert answer.status_code == 200, answer.text
    sentence = answer.json()
    assert sentence["text"].startswith("Tổng số thuê bao điện thoại ước đạt")
    assert sentence["text"].rstrip().endswith("so với cùng kỳ.")
    assert sentence["text"][sentence["span_start"] : sentence["span_end"]] == "2.980.000"
    assert REPORT[sentence["start"] : sentence["end"]] == sentence["text"]
    assert sentence["truncated"] is False
    assert sentence["filename"] == "th.txt"


@pytest.mark.asyncio
async def test_an_abbreviation_does_not_end_the_sentence(client: httpx.AsyncClient) -> None:
    document = await upload(client, REPORT)
    start = REPORT.index("Thanh Hóa")
    sentence = (
        await client.get(
            f"/v1/documents/{document}/sentence", params={"start": start, "end": start + 9}
        )
    ).json()
    assert sentence["text"].startswith("Năm 2023, ngành")  # "TP." did not cut it


@pytest.mark.asyncio
async def test_a_long_sentence_is_cut_around_the_span_and_says_so(
    client: httpx.AsyncClient,
) -> None:
    text = "Năm 2023 " + "rất " * 200 + "đạt 1.234 thuê bao " + "và " * 200 + "xong."
    document = await upload(client, text)
    start = text.index("1.234")
    sentence = (
        await client.get(
            f"/v1/documents/{document}/sentence", params={"start": start, "end": start + 5}
        )
    ).json()
    assert sentence["truncated"] is True
    assert len(sentence["text"]) == 100
    assert sentence["text"][sentence["span_start"] : sentence["span_end"]] == "1.234"


@pytest.mark.parametrize(("start", "end"), [(5, 5), (10, 5), (0, 10_000)])
@pytest.mark.asyncio
async def test_a_span_outside_the_text_is_a_422(
    client: httpx.AsyncClient, start: int, end: int
) -> None:
    document = await upload(client, REPORT)
    answer = await client.get(
        f"/v1/documents/{document}/sentence", params={"start": start, "end": end}
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "ingest.bad_span"


@pytest.mark.asyncio
async def test_an_unknown_document_is_a_404(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/documents/nope/sentence", params={"start": 0, "end": 1})
    assert answer.status_code == 404


def test_the_window_never_cuts_the_span() -> None:
    assert _window(0, 1000, 500, 700, 100) == (500, 700, True)
    assert _window(0, 50, 10, 20, 100) == (0, 50, False)
    left, right, cut = _window(0, 1000, 0, 5, 100)
    assert (left, right, cut) == (0, 100, True)
    left, right, cut = _window(0, 1000, 995, 1000, 100)
    assert (left, right, cut) == (900, 1000, True)
