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

# One flag as indicators serves it and the gateway passes it on (`GET /v1/quality/{id}`): the
# example of both services' flag routes.
FLAG_EXAMPLE: dict[str, Any] = {
    "id": 12,
    "key": "3f1d0c5e9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
    "rule": "change_vs_levels",
    "severity": "warning",
    "status": "open",
    "indicator": "telecom.subscribers.total",
    "area": "38",
    "period": "2023",
    "message_vi": NOTE_EXAMPLE["message_vi"],
    "message_en": NOTE_EXAMPLE["message_en"],
    "figures": {"stated": 4.44, "computed": 0.78},
    "raised_at": "2026-12-08T09:00:00Z",
    "updated_at": "2026-12-08T09:00:00Z",
    "resolution": None,
    "observations": [
        {
            "id": 5,
            "part": "stated",
            "indicator": "telecom.subscribers.total",
            "area": "38",
            "period": "2023",
            "measure": "actual",
            "transformation": "change_previous",
            "unit": "percent",
            "value": 4.44,
            "status": "E",
            "is_current": True,
            "sources": [
                {
                    "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                    "document_name": "thanh-hoa-2023.txt",
                    "published": "2023-12-20",
                    "start": 1190,
                    "end": 1194,
                    "text": "4,44",
                    "label": "Tổng số thuê bao trên toàn mạng",
                    "extractor_version": "0.8.0",
                    "doubts": [],
                    "confidence": 1.0,
                    "reviewed_by": None,
                    "reviewed_at": None,
                    "review_action": None,
                }
            ],
        }
    ],
}
# The flag counts of a `GET /v1/quality` answer.
COUNTS_EXAMPLE: dict[str, dict[str, int]] = {
    "area": {"38": 1},
    "indicator": {"telecom.subscribers.total": 1},
    "rule": {"change_vs_levels": 1},
    "document": {"6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10": 1},
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
