"""The fact: one numeric mention that states a metric (../shared/eval/GUIDELINE.md).

Ingest emits facts in this shape and indicators accepts them; this module is the only
definition of it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chiso_shared.periods import Period
from chiso_shared.times import UtcDatetime


class Unit(StrEnum):
    count = "count"  # type: ignore[assignment]  # shadows str.count, by design
    VND = "VND"
    USD = "USD"
    percent = "percent"
    per_100_people = "per_100_people"
    Mbps = "Mbps"
    km = "km"
    hours_per_day = "hours_per_day"
    rank = "rank"
    other = "other"


class Role(StrEnum):
    level = "level"
    change = "change"
    ratio = "ratio"


class Basis(StrEnum):
    previous_period = "previous_period"
    plan = "plan"
    other = "other"


class Status(StrEnum):
    actual = "actual"
    estimate = "estimate"
    target = "target"


class DoubtCode(StrEnum):
    """Why a fact may be wrong: a reason to look at it again (issue 16, "know when you don't
    know"). Each code's description, in Vietnamese and English, is `DOUBT_DESCRIPTIONS`."""

    period_from_publication = "period_from_publication"
    period_from_report = "period_from_report"
    scope_defaulted = "scope_defaulted"
    indicator_weak = "indicator_weak"
    unit_inferred = "unit_inferred"


DOUBT_DESCRIPTIONS: dict[DoubtCode, tuple[str, str]] = {
    DoubtCode.period_from_publication: (
        "Kỳ số liệu dựa vào ngày phát hành: câu không nêu kỳ, và kỳ báo cáo (hoặc năm của "
        "nó, như 'quý III' không ghi năm) chỉ suy ra từ ngày phát hành.",
        "The period leans on the publication date: the sentence states none, and the report's "
        "period (or its year, as in a 'quý III' without one) came from the publication date.",
    ),
    DoubtCode.period_from_report: (
        "Câu không nêu kỳ; đã dùng kỳ của cả báo cáo, mà kỳ đó không ghi ở tiêu đề hay "
        "dòng mở đầu (chỉ đoán theo các năm được nhắc tới).",
        "The sentence states no period; the report's own was used, and the report does not "
        "name it in its title or opening (it was inferred from the years the text names).",
    ),
    DoubtCode.scope_defaulted: (
        "Địa bàn là mặc định: văn bản không nêu rõ tỉnh nào (hay cả nước) và không có gợi ý "
        "địa bàn.",
        "The scope is a default: the text names no province (nor the country) clearly and "
        "no scope hint was given.",
    ),
    DoubtCode.indicator_weak: (
        "Chỉ tiêu khớp yếu: điểm thấp hoặc gần bằng chỉ tiêu khác, hoặc mượn từ số liệu, "
        "câu hay tiêu đề mục trước đó thay vì chính từ ngữ quanh con số.",
        "The indicator is a weak match: a low score or one close to another metric's, or "
        "borrowed from an earlier figure, sentence or section heading rather than the "
        "figure's own words.",
    ),
    DoubtCode.unit_inferred: (
        "Đơn vị được suy đoán, văn bản không ghi (số trần coi là số lượng, số thập phân "
        "dưới 1 coi là điểm chỉ số).",
        "The unit was inferred with no sign in the text (a bare number taken as a count, "
        "a decimal below 1 as an index score).",
    ),
}


def _doubt_table() -> str:
    rows = "\n".join(f"- `{code}`: {vi} / {en}" for code, (vi, en) in DOUBT_DESCRIPTIONS.items())
    return "Why the fact may be wrong (empty when nothing is in doubt):\n" + rows


def doubts_field() -> Any:
    """The `doubts` field of a fact, or of a source that keeps a fact's doubts."""
    return Field(
        default_factory=list,
        max_length=len(DoubtCode),
        description=_doubt_table(),
        examples=[[], ["period_from_report", "unit_inferred"]],
    )


def confidence_field() -> Any:
    """The `confidence` field that goes with `doubts_field`."""
    return Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="How sure the extractor is, from its doubts: 1.0 with none, lowered by "
        "each doubt's weight (services/ingest/.../extraction/data/doubts.toml).",
        examples=[1.0, 0.85],
    )


SCOPE_PATTERN = re.compile(r"^(?:VN|VN-\d{2}|sub)$")

# On the wire a period stays its text; `_check_period` reads it as a `Period`.
PeriodText = Annotated[
    str,
    Field(
        description=(
            "What the value refers to: `2023`, `2023-S1`, `2023-Q3`, `2023-11`, `2023-12-20`, "
            "or a span `2021-12/2023-11`, `2023/2024`."
        ),
        examples=["2023", "2023-S1", "2023-11", "2023-01/2023-11"],
    ),
]


# What a review did to a fact that still stands (a rejected fact has no mark: it is gone).
ReviewAction = Literal["accept", "correct", "add"]


class ReviewMark(BaseModel):
    """A person's word on a fact: accepted as read, corrected, or added where the extractor
    missed it. A reviewed fact wins over the machine's reading of the same value."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"action": "correct", "by": "ch_3f9a1c", "at": "2026-12-07T09:30:00Z"}]
        }
    )

    action: ReviewAction = Field(
        description="accept: the machine's reading stands; correct: fields were changed; add: "
        "a fact the extractor missed."
    )
    by: str = Field(min_length=1, max_length=200, description="The reviewer (a client id).")
    at: UtcDatetime = Field(description="When the review was made (UTC).")


# One fact as the extractor writes it: the example of every schema and route that shows one.
FACT_EXAMPLE: dict[str, Any] = {
    "doc": "thanh-hoa-2023.txt",
    "start": 1170,
    "end": 1179,
    "text": "2.980.000",
    "value": 2980000,
    "unit": "count",
    "item": "thuê bao",
    "role": "level",
    "basis": None,
    "of": None,
    "max": None,
    "period": "2023",
    "status": "estimate",
    "indicator": "telecom.subscribers.total",
    "scope": "VN-38",
    "label": "Tổng số thuê bao trên toàn mạng",
    "doubts": ["period_from_report"],
    "confidence": 0.85,
}


class Fact(BaseModel):
    """One fact, field for field as the GUIDELINE's extraction output (§3)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [FACT_EXAMPLE]})

    doc: str = Field(min_length=1, max_length=512, description="The document's file name.")
    start: int = Field(ge=0, description="Span start, code points into the NFC text.")
    end: int = Field(ge=0, description="Span end (exclusive).")
    text: str = Field(max_length=200, description="The span's text, as written.")
    value: float = Field(description="The number in the base unit, scale words applied.")
    unit: Unit
    item: str | None = Field(default=None, max_length=500)
    role: Role = Role.level
    basis: Basis | None = None
    of: float | None = Field(default=None, description="Denominator of a pair or a rank.")
    max: float | None = Field(default=None, description="Upper bound of a range.")
    period: PeriodText
    status: Status = Status.actual
    indicator: str | None = Field(default=None, max_length=200)
    scope: str | None = Field(
        default=None,
        description=(
            "`VN`, `VN-xx` or `sub`; null when unknown: a provincial text that names no "
            "province and came with no scope hint. Such a fact belongs to no series."
        ),
    )
    label: str | None = Field(default=None, max_length=2000)
    doubts: list[DoubtCode] = doubts_field()
    confidence: float = confidence_field()
    # Left out of every dump when None, so a machine fact's JSON (the GUIDELINE output, the
    # idempotency hash of a batch) is what it was before reviews existed.
    review: ReviewMark | None = Field(
        default=None,
        exclude_if=lambda review: review is None,
        description="Set when a person reviewed the fact (absent for the machine's reading).",
    )

    @field_validator("period")
    @classmethod
    def _check_period(cls, period: str) -> str:
        Period.parse(period)  # raises a ValueError that says what is wrong
        return period

    @field_validator("scope")
    @classmethod
    def _check_scope(cls, scope: str | None) -> str | None:
        if scope is not None and not SCOPE_PATTERN.match(scope):
            raise ValueError(f"scope {scope!r} is not VN, VN-xx or sub")
        return scope

    @model_validator(mode="after")
    def _check_consistency(self) -> Fact:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        if self.role is Role.level and self.basis is not None:
            raise ValueError("a level has no basis")
        if self.role is not Role.level and self.basis is None:
            raise ValueError(f"a {self.role.value} needs a basis")
        return self

    def to_jsonl_dict(self) -> dict[str, object]:
        """The GUIDELINE's field order, enums as strings, integral values as integers."""
        data = self.model_dump(mode="json")
        for key in ("value", "of", "max"):
            number = data[key]
            if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
                data[key] = int(number)
        return data
