"""GET /v1/documents/{id}/sentence: the sentence a fact was read from, for tracing a number."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from chiso_ingest import extraction
from chiso_ingest.deps import SessionDep, SettingsDep
from chiso_ingest.documents import service
from chiso_shared.errors import FieldError, Unprocessable, problem_responses

router = APIRouter(prefix="/v1/documents", tags=["documents"])


class Sentence(BaseModel):
    """A stretch of a document's text around a span, with where the span sits inside it."""

    document_id: str
    filename: str
    start: int = Field(description="Where the sentence starts in the document's text.")
    end: int = Field(description="Where it ends (exclusive).")
    text: str = Field(description="The sentence (or, when `truncated`, a window of it).")
    span_start: int = Field(description="The span's start inside `text`.")
    span_end: int = Field(description="The span's end inside `text` (exclusive).")
    truncated: bool = Field(
        description="The sentence was longer than SENTENCE_MAX_CHARS: `text` is the window of "
        "that many characters around the span."
    )


EXAMPLE = {
    "document_id": "2f0c3e1a-7d4b-4c55-9a43-1b2f5e6d7c8a",
    "filename": "thanh-hoa-2023.txt",
    "start": 1140,
    "end": 1215,
    "text": "Tổng số thuê bao trên toàn mạng ước đạt 2.980.000 thuê bao, tăng 4,44%.",
    "span_start": 40,
    "span_end": 49,
    "truncated": False,
}


@router.get(
    "/{document_id}/sentence",
    response_model=Sentence,
    summary="The sentence that holds a span of the document's text",
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        **problem_responses(404, 422),
    },
)
async def get_sentence(
    session: SessionDep,
    settings: SettingsDep,
    document_id: Annotated[str, Path(max_length=36)],
    start: Annotated[int, Query(ge=0, le=2**31 - 1, examples=[1180])],
    end: Annotated[int, Query(ge=0, le=2**31 - 1, examples=[1189])],
) -> Sentence:
    document = await service.get(session, document_id)
    text = document.text
    if not start < end <= len(text):
        problem = f"the span must lie inside the text (0 to {len(text)}) and not be empty"
        raise Unprocessable(
            f"start {start}, end {end}: {problem}. / Đoạn {start}–{end} phải nằm trong văn bản "
            f"(0 đến {len(text)}) và không rỗng.",
            code="ingest.bad_span",
            errors=[FieldError(field="query.end", message=problem)],
        )
    first, last = extraction.sentence_around(text, start, end)
    first, last, truncated = _window(first, last, start, end, settings.sentence_max_chars)
    return Sentence(
        document_id=document.id,
        filename=document.filename,
        start=first,
        end=last,
        text=text[first:last],
        span_start=start - first,
        span_end=end - first,
        truncated=truncated,
    )


def _window(first: int, last: int, start: int, end: int, most: int) -> tuple[int, int, bool]:
    """[first, last) cut to at most `most` characters centred on [start, end), and whether
    it was cut; the span itself is never cut."""
    if last - first <= most:
        return first, last, False
    room = max(0, most - (end - start))
    left = max(first, start - room // 2)
    right = min(last, max(end, left + most))
    left = max(first, min(left, right - most))
    return left, right, True
