"""The review API contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chiso_shared.facts import FACT_EXAMPLE, Basis, Fact, PeriodText, Role, Status, Unit
from chiso_shared.pagination import INT_MAX

ReviewActionIn = Literal["accept", "correct", "reject", "add"]


REVIEWED_EXAMPLE: dict[str, Any] = {
    **FACT_EXAMPLE,
    "value": 2990000,
    "doubts": [],
    "confidence": 1.0,
    "review": {"action": "correct", "by": "ch_3f9a1c", "at": "2026-12-07T09:30:00Z"},
}


class FactFields(BaseModel):
    """The fields of a fact a reviewer may set: a correction's `changes` (only those given
    change) or an added fact's `fact` (`value`, `unit` and `period` required). The span, its
    text, the document and the doubts are not the reviewer's to set."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,  # JSON has no infinity: the fact could be neither stored nor sent
        json_schema_extra={"examples": [{"value": 2990000}, {"period": "2023", "scope": "VN-38"}]},
    )

    value: float | None = None
    unit: Unit | None = None
    role: Role | None = None
    basis: Basis | None = None
    of: float | None = None
    max: float | None = None
    period: PeriodText | None = None
    status: Status | None = None
    indicator: str | None = Field(default=None, max_length=200)
    scope: str | None = Field(default=None, max_length=8)
    item: str | None = Field(default=None, max_length=500)
    label: str | None = Field(default=None, max_length=2000)

    def given(self) -> dict[str, Any]:
        """The fields the request named, as JSON values (an explicit null included)."""
        return self.model_dump(mode="json", include=self.model_fields_set)


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "correct",
                    "start": 1170,
                    "end": 1179,
                    "reviewer": "ch_3f9a1c",
                    "changes": {"value": 2990000},
                    "note": "Số liệu đúng theo phụ lục 2.",
                },
                {"action": "accept", "start": 1170, "end": 1179, "reviewer": "ch_3f9a1c"},
                {
                    "action": "add",
                    "start": 2040,
                    "end": 2043,
                    "reviewer": "ch_3f9a1c",
                    "fact": {
                        "value": 310,
                        "unit": "count",
                        "period": "2023",
                        "indicator": "telecom.bts.total",
                        "scope": "VN-38",
                    },
                },
            ]
        },
    )

    action: ReviewActionIn = Field(
        description="accept the fact at `start` as it is, correct some of its fields "
        "(`changes`), reject it (it is no fact), or add one the extractor missed at "
        "`start`..`end` (`fact`)."
    )
    start: int = Field(ge=0, le=INT_MAX, description="The span's start in the document text.")
    end: int = Field(ge=0, le=INT_MAX, description="The span's end (exclusive).")
    reviewer: str = Field(min_length=1, max_length=200, description="Who reviews (a client id).")
    changes: FactFields | None = Field(default=None, description="For `correct` only.")
    fact: FactFields | None = Field(default=None, description="For `add` only.")
    note: str | None = Field(default=None, max_length=2000, description="Why, for the record.")

    @model_validator(mode="after")
    def _span(self) -> ReviewIn:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class ReviewOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 12,
                    "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                    "action": "correct",
                    "start": 1170,
                    "end": 1179,
                    "reviewer": "ch_3f9a1c",
                    "reviewed_at": "2026-12-07T09:30:00Z",
                    "note": "Số liệu đúng theo phụ lục 2.",
                    "before": FACT_EXAMPLE,
                    "after": REVIEWED_EXAMPLE,
                }
            ]
        }
    )

    id: int
    document_id: str
    action: ReviewActionIn
    start: int
    end: int
    reviewer: str
    reviewed_at: datetime
    note: str | None
    before: Fact | None = Field(description="The effective fact it replaced (null for add).")
    after: Fact | None = Field(description="The fact as reviewed (null for reject).")


class ReviewHistory(BaseModel):
    document_id: str
    items: list[ReviewOut] = Field(description="Every review of the document, oldest first.")


class QueueItem(BaseModel):
    document_id: str
    filename: str
    fact: Fact


class ReviewQueue(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                            "filename": "thanh-hoa-2023.txt",
                            "fact": FACT_EXAMPLE,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[QueueItem] = Field(
        description="Facts no one has reviewed, most doubtful first: lowest confidence, then "
        "most doubts, then the newest document, then the span's start."
    )
    next_cursor: str | None = Field(description="The `cursor` of the next page, if any.")
