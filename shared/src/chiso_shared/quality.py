"""A data-quality flag as every read surface carries it beside an observation (issue 18).

Indicators raises flags when its checks fail (`chiso_indicators.quality`); a series point, an
observation and the gateway's views name them with this note. The full flag, with the figures
and sources it concerns, is `GET /v1/quality/{id}`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning", "info"]
FlagStatus = Literal["open", "resolved"]
Resolution = Literal["accept", "correct", "explain"]
# The precedence rule that chose the served version of a (series, period): the only version;
# one a person reviewed; the higher status (actual > provisional > estimate > target); the
# newer publication; the higher value (a last, arbitrary but stable, tie-break).
ChosenBy = Literal["only", "reviewed", "status", "publication", "value"]

NOTE_EXAMPLE: dict[str, Any] = {
    "flag_id": 12,
    "rule": "change_vs_levels",
    "severity": "warning",
    "status": "open",
    "message_vi": "Báo cáo nêu tăng 4,44% nhưng hai mức 2.957.000 (2022) → 2.980.000 (2023) "
    "cho +0,78%.",
    "message_en": "The report states +4.44% but the levels 2,957,000 (2022) → 2,980,000 (2023) "
    "give +0.78%.",
}


class QualityNote(BaseModel):
    """A flag that concerns a value: what the check found, and whether a person resolved it."""

    model_config = ConfigDict(json_schema_extra={"examples": [NOTE_EXAMPLE]})

    flag_id: int = Field(description="The flag: `GET /v1/quality/{flag_id}`.")
    rule: str = Field(description="The check's code.", examples=["change_vs_levels"])
    severity: Severity = Field(
        description="error: impossible as stated; warning: figures contradict each other; "
        "info: worth a look (an estimate revised, say)."
    )
    status: FlagStatus = Field(description="open until a person resolves it.")
    message_vi: str
    message_en: str


def quality_field() -> Any:
    return Field(
        default_factory=list,
        description="Data-quality flags that concern this value, open and resolved.",
        examples=[[NOTE_EXAMPLE]],
    )


def chosen_by_field() -> Any:
    return Field(
        default=None,
        description="Why this version is the one served for its period: `only` (no other), "
        "`reviewed` (a person reviewed it), `status` (actual > provisional > estimate > "
        "target), `publication` (the newer report), `value` (a stable tie-break). Null on a "
        "version that is not current, and on current versions stored before chiso recorded "
        "it, until their period is imported again.",
        examples=["status"],
    )
