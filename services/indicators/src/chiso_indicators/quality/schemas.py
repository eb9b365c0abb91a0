"""The flags' contract: `GET /v1/quality`, one flag, and a resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chiso_indicators.observations.schemas import SourceOut
from chiso_shared.quality import COUNTS_EXAMPLE, FLAG_EXAMPLE, FlagStatus, Resolution, Severity


class ResolutionOut(BaseModel):
    action: Resolution
    by: str
    at: datetime
    note: str | None
    observation_id: int | None = Field(description="The figure accepted or corrected, if any.")


class FlagObservation(BaseModel):
    """A version the flag concerns, its part in the check, and where it was read."""

    id: int
    part: str = Field(examples=["stated", "level", "previous", "total", "component"])
    indicator: str
    area: str
    period: str
    measure: str
    transformation: str
    unit: str
    value: float
    status: str
    is_current: bool
    sources: list[SourceOut]


class FlagOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [FLAG_EXAMPLE]})

    id: int
    key: str = Field(description="The finding's identity: its rule and the versions involved.")
    rule: str
    severity: Severity
    status: FlagStatus
    indicator: str
    area: str
    period: str = Field(description="The latest period the check compares: the flag's cell.")
    message_vi: str
    message_en: str
    figures: dict[str, float] = Field(description="The numbers the message quotes.")
    raised_at: datetime
    updated_at: datetime
    resolution: ResolutionOut | None
    observations: list[FlagObservation]


class FlagPage(BaseModel):
    items: list[FlagOut]
    count: int = Field(description="Flags matching the filters, over every page.")
    next_cursor: str | None = None
    counts: dict[str, dict[str, int]] = Field(
        description="Matching flags counted by `area`, `indicator`, `rule` and `document` "
        "(the documents of their sources), over every page.",
        examples=[COUNTS_EXAMPLE],
    )


class ResolutionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"action": "explain", "by": "ch_3f9a1c", "note": "Khác phạm vi thống kê."},
                {"action": "accept", "by": "ch_3f9a1c", "observation_id": 5},
            ]
        },
    )

    action: Resolution = Field(
        description="accept: one figure is right (the web app accepts its fact in ingest "
        "first); correct: a figure was corrected; explain: the figures are right and the "
        "difference has a reason, given in `note`."
    )
    by: str = Field(min_length=1, max_length=200, description="Who resolved it (a client id).")
    note: str | None = Field(default=None, max_length=2000)
    observation_id: int | None = Field(
        default=None, description="The figure accepted or corrected: one of the flag's."
    )

    @model_validator(mode="after")
    def _needs(self) -> ResolutionIn:
        if self.action == "explain" and not (self.note or "").strip():
            raise ValueError("an explanation needs a note")
        if self.action in ("accept", "correct") and self.observation_id is None:
            raise ValueError(f"{self.action} names the figure: observation_id")
        return self


StatusFilter = Literal["open", "resolved", "all"]
