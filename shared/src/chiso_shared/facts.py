"""The fact: one numeric mention that states a metric (../shared/eval/GUIDELINE.md).

Ingest emits facts in this shape and indicators accepts them; this module is the only
definition of it.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chiso_shared.periods import Period


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


class Fact(BaseModel):
    """One fact, field for field as the GUIDELINE's extraction output (§3)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
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
                }
            ]
        },
    )

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
