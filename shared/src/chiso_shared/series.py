"""One indicator's series for one area, point by point: the contract between indicators,
which answers `GET /v1/indicators/{code}/series` with a JSON array of `SeriesPoint`, and the
gateway, which splices that array into its envelope without parsing it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chiso_shared.facts import DoubtCode, ReviewAction, confidence_field, doubts_field
from chiso_shared.quality import NOTE_EXAMPLE, ChosenBy, QualityNote, chosen_by_field, quality_field

# Paging headers of the series read: the array itself carries no page metadata, so that the
# gateway can pass it on as it is.
COUNT_HEADER = "X-Count"
NEXT_CURSOR_HEADER = "X-Next-Cursor"

# A value's status in chiso's own JSON and CSV is a word, the fact's own vocabulary
# (GUIDELINE), so it never sits as a letter beside `measure: actual`; SDMX's OBS_STATUS and
# DHIS2's comment keep SDMX's letters. The store keeps the letters.
STATUS_WORDS = {"A": "actual", "P": "provisional", "E": "estimate", "F": "target"}
STATUS_LETTERS = {word: letter for letter, word in STATUS_WORDS.items()}
StatusWord = Literal["actual", "provisional", "estimate", "target"]


def status_word(letter: str) -> str:
    return STATUS_WORDS.get(letter, letter)


POINT_EXAMPLE: dict[str, Any] = {
    "period": "2023",
    "value": 2980000,
    "status": "estimate",
    "unit": "count",
    "chosen_by": "reviewed",
    "sources": [
        {
            "document": "thanh-hoa-2023.txt",
            "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
            "published": "2023-12-20",
            "text": "2.980.000",
            "start": 312,
            "end": 321,
            "label": "tổng số thuê bao điện thoại trên địa bàn",
            "doubts": [],
            "confidence": 1.0,
            "reviewed_by": "ch_3f9a1c",
            "reviewed_at": "2026-12-07T09:30:00Z",
            "review_action": "correct",
        }
    ],
    "quality": [NOTE_EXAMPLE],
}


def reviewed_by_field() -> Any:
    """`reviewed_by` of a source: who reviewed the fact it was read from."""
    return Field(
        default=None,
        description="The reviewer (a client id) when a person accepted, corrected or added the "
        "fact; such a value is current over the machine's readings. Null otherwise.",
        examples=[None, "ch_3f9a1c"],
    )


def reviewed_at_field() -> Any:
    return Field(default=None, description="When the fact was reviewed (UTC); null if never.")


def review_action_field() -> Any:
    return Field(
        default=None,
        description="How the fact was reviewed: accept, correct or add; null if never.",
    )


class PointSource(BaseModel):
    """A document a value was read from, and the quoted span."""

    document: str = Field(examples=["thanh-hoa-2023.txt"])
    document_id: str
    published: str = Field(examples=["2023-12-20"])
    text: str = Field(description="The quoted span.", examples=["2.980.000"])
    start: int
    end: int
    label: str | None
    doubts: list[DoubtCode] = doubts_field()
    confidence: float = confidence_field()
    reviewed_by: str | None = reviewed_by_field()
    reviewed_at: datetime | None = reviewed_at_field()
    review_action: ReviewAction | None = review_action_field()


class SeriesPoint(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [POINT_EXAMPLE]})

    period: str = Field(examples=["2023"])
    value: float = Field(examples=[2980000])
    status: StatusWord = Field(
        examples=["estimate"],
        description="actual, provisional, estimate or target (SDMX's OBS_STATUS A, P, E, F).",
    )
    unit: str = Field(examples=["count"])
    chosen_by: ChosenBy | None = chosen_by_field()
    sources: list[PointSource]
    quality: list[QualityNote] = quality_field()
