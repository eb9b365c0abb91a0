"""The indicators API contract: import batches, summaries, observations with provenance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chiso_shared.catalogue import area_code
from chiso_shared.facts import DoubtCode, Fact, ReviewAction, confidence_field, doubts_field
from chiso_shared.quality import NOTE_EXAMPLE, ChosenBy, QualityNote, chosen_by_field, quality_field
from chiso_shared.series import (
    StatusWord,
    review_action_field,
    reviewed_at_field,
    reviewed_by_field,
)
from chiso_shared.times import UtcDatetime

T = TypeVar("T")

PUBLISHED_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"


class DocumentMeta(BaseModel):
    """What the sender knows about a source document; facts point to it by `name` (= `doc`)."""

    id: str | None = Field(default=None, max_length=64, description="Stable id, e.g. ingest's.")
    name: str = Field(min_length=1, max_length=512, examples=["thanh-hoa-2023.txt"])
    title: str | None = Field(default=None, max_length=1000)
    source_url: str | None = Field(default=None, max_length=2000)
    issuer: str | None = Field(default=None, max_length=500)
    published: str | None = Field(
        default=None,
        pattern=PUBLISHED_PATTERN,
        description="Publication date (the vintage); inferred from the facts when absent.",
        examples=["2023-12-25"],
    )
    extractor_version: str | None = Field(default=None, max_length=64)


class FactBatch(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "documents": [
                        {"id": "doc-1", "name": "thanh-hoa-2023.txt", "published": "2023-12-25"}
                    ],
                    "facts": [Fact.model_config["json_schema_extra"]["examples"][0]],  # type: ignore[index]
                }
            ]
        }
    )

    documents: list[DocumentMeta] = Field(default_factory=list)
    facts: list[Fact]
    withdrawn: list[Fact] = Field(
        default_factory=list,
        description=(
            "Facts a document no longer states (a newer extractor version did not find them):"
            " the document stops being a source of those values, and each value's current"
            " version is chosen again. Applied before `facts`."
        ),
    )


class ImportConflict(BaseModel):
    index: int = Field(description="Position of the fact in `facts`.")
    field: str
    message: str


class ImportSummary(BaseModel):
    """Modelled on DHIS2's import summary."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "OK",
                    "dry_run": False,
                    "imported": 5,
                    "updated": 1,
                    "ignored": 0,
                    "withdrawn": 0,
                    "conflicts": [],
                    "revision": 12,
                }
            ]
        }
    )

    status: Literal["OK", "WARNING"]
    dry_run: bool
    imported: int = Field(description="New (series, period) values.")
    updated: int = Field(description="New versions or corroborating sources of known values.")
    ignored: int = Field(description="Facts that changed nothing or have no series.")
    withdrawn: int = Field(default=0, description="Sources removed by `withdrawn` facts.")
    conflicts: list[ImportConflict] = Field(default_factory=list)
    revision: int = Field(description="The data revision after this import.")
    flags_raised: int = Field(
        default=0, description="Data-quality flags this import raised (`GET /v1/quality`)."
    )
    flags_cleared: int = Field(
        default=0, description="Open flags this import cleared: their figures no longer clash."
    )


SOURCE_EXAMPLE: dict[str, Any] = {
    "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
    "document_name": "thanh-hoa-2023.txt",
    "published": "2023-12-20",
    "start": 312,
    "end": 321,
    "text": "2.980.000",
    "label": "tổng số thuê bao điện thoại trên địa bàn",
    "extractor_version": "0.8.0",
    "doubts": ["period_from_report"],
    "confidence": 0.85,
    "reviewed_by": None,
    "reviewed_at": None,
    "review_action": None,
}


class SourceOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [SOURCE_EXAMPLE]})

    document_id: str
    document_name: str
    published: str
    start: int
    end: int
    text: str
    label: str | None
    extractor_version: str | None
    doubts: list[DoubtCode] = doubts_field()
    confidence: float = confidence_field()
    reviewed_by: str | None = reviewed_by_field()
    reviewed_at: datetime | None = reviewed_at_field()
    review_action: ReviewAction | None = review_action_field()


class ObservationQuery(BaseModel):
    """The query parameters of GET /v1/observations, validated as one model (a dozen separate
    parameters cost FastAPI about a millisecond per request)."""

    indicator: list[str] | None = Field(
        default=None,
        description="Indicator codes, repeated or comma-separated.",
        examples=[["telecom.subscribers.total"]],
    )
    area: list[str] | None = Field(
        default=None,
        description="Area codes (`38`, `VN`, `iso:VN-21`), repeated or comma-separated.",
        examples=[["38"]],
    )
    start_period: str | None = Field(default=None, max_length=32, examples=["2022"])
    end_period: str | None = Field(default=None, max_length=32, examples=["2023"])
    frequency: Literal["A", "S", "Q", "M", "D", "X"] | None = None
    measure: Literal["actual", "target"] | None = None
    transformation: str | None = Field(default=None, max_length=32, examples=["level"])
    status: StatusWord | Literal["A", "E", "F", "P"] | None = Field(
        default=None,
        description="actual, provisional, estimate or target. SDMX's letters (A, P, E, F) "
        "are accepted for one release.",
    )
    updated_after: UtcDatetime | None = None
    include_history: bool = Field(default=False, description="All versions, not just current.")
    as_of: UtcDatetime | None = Field(
        default=None,
        description="The values as they stood at this recording time: of the versions recorded "
        "by then and not withdrawn then, the current one (or all of them with include_history).",
    )
    last_n: int | None = Field(
        default=None, ge=1, le=1000, description="Only the latest N periods of each series."
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        description="Page size. With `format=csv` or `xlsx`, asks for one page instead of the "
        "whole selection.",
    )
    cursor: str | None = Field(
        default=None,
        max_length=2000,
        description="The next page's position, from `next_cursor`, `X-Next-Cursor` or the "
        "`Link` header of the page before.",
    )
    format: Literal["json", "csv", "xlsx"] = Field(
        default="json",
        description="`json`: one page (`limit`, `cursor`). `csv` and `xlsx`: the whole "
        "selection in one file (at most `MAX_EXPORT_OBSERVATIONS` rows, 413 above), or one "
        "page when `limit` or `cursor` is given.",
    )


class SeriesPointsQuery(BaseModel):
    """The query of GET /v1/indicators/{code}/series: one area's points, one page."""

    area: Annotated[str, AfterValidator(area_code)] = Field(
        max_length=16,
        description="An area code: `38`, `VN`, or an ISO 3166-2 code as `iso:VN-21`.",
        examples=["38"],
    )
    start_period: str | None = Field(default=None, max_length=32, examples=["2022"])
    end_period: str | None = Field(default=None, max_length=32, examples=["2023"])
    measure: Literal["actual", "target"] = "actual"
    transformation: str = Field(default="level", max_length=32, examples=["level"])
    limit: int | None = Field(default=None, ge=1, description="Page size.")
    cursor: str | None = Field(default=None, max_length=2000)


class ObservationOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "indicator": "telecom.subscribers.total",
                    "area": "38",
                    "frequency": "A",
                    "measure": "actual",
                    "transformation": "level",
                    "unit": "count",
                    "period": "2023",
                    "value": 2980000,
                    "of": None,
                    "max": None,
                    "status": "estimate",
                    "published": "2023-12-20",
                    "recorded_at": "2026-11-26T08:00:00Z",
                    "is_current": True,
                    "chosen_by": "status",
                    "sources": [SOURCE_EXAMPLE],
                    "quality": [NOTE_EXAMPLE],
                }
            ]
        }
    )

    indicator: str
    area: str
    frequency: str
    measure: str
    transformation: str
    unit: str
    period: str
    value: float
    of: float | None
    max: float | None
    status: StatusWord = Field(
        description="actual, provisional, estimate or target (SDMX's OBS_STATUS A, P, E, F)."
    )
    published: str
    recorded_at: datetime
    is_current: bool
    chosen_by: ChosenBy | None = chosen_by_field()
    sources: list[SourceOut]
    quality: list[QualityNote] = quality_field()


class IndicatorOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "telecom.subscribers.total",
                    "unit": "count",
                    "name_vi": "Tổng số thuê bao điện thoại",
                    "name_en": "Telephone subscriptions, total",
                    "reference": "VN national indicator 1304 (TT 03/2022/TT-BTTTT); ITU i112",
                }
            ]
        }
    )

    code: str
    unit: str
    name_vi: str
    name_en: str
    reference: str


class AreaVersionOut(BaseModel):
    """What a code named on one code list, and when."""

    code_list: str = Field(description="2004, 2025, or '' for the country.")
    name_vi: str
    name_en: str
    valid_from: date | None
    valid_to: date | None
    successor: str | None = Field(
        description="For a 2004-list province: the 2025-list code that took it over."
    )
    iso_3166_2: str | None = Field(
        default=None,
        description="ISO 3166-2 code of this version, where ISO has one (not for the 2025 "
        "list yet).",
    )


class AreaOut(BaseModel):
    """A GSO area code, named by its latest version, with its history and merger mapping."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "24",
                    "name_vi": "Bắc Ninh",
                    "name_en": "Bac Ninh",
                    "level": "province",
                    "code_list": "2025",
                    "valid_from": "2004-01-01",
                    "valid_to": None,
                    "successor": None,
                    "iso_3166_2": "VN-54",
                    "predecessors": ["24", "27"],
                    "versions": [
                        {
                            "code_list": "2004",
                            "name_vi": "Bắc Giang",
                            "name_en": "Bac Giang",
                            "valid_from": "2004-01-01",
                            "valid_to": "2025-06-30",
                            "successor": "24",
                            "iso_3166_2": "VN-54",
                        },
                        {
                            "code_list": "2025",
                            "name_vi": "Bắc Ninh",
                            "name_en": "Bac Ninh",
                            "valid_from": "2025-07-01",
                            "valid_to": None,
                            "successor": None,
                            "iso_3166_2": None,
                        },
                    ],
                }
            ]
        }
    )

    code: str
    name_vi: str
    name_en: str
    level: str
    code_list: str = Field(description="The latest code list the code is on ('' for VN).")
    valid_from: date | None
    valid_to: date | None = Field(description="Set when the code ended (merged away in 2025).")
    successor: str | None = Field(description="The code that took this one over, if it ended.")
    iso_3166_2: str | None = Field(
        default=None,
        description="ISO 3166-2 code of its 2004-list version, where ISO has one. Not the "
        "same numbers: ISO's 01 is Lai Châu, GSO's 01 is Hà Nội.",
    )
    predecessors: list[str] = Field(
        description="The 2004-list codes merged into this 2025-list area (itself included)."
    )
    versions: list[AreaVersionOut]


class SeriesOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "indicator": "telecom.subscribers.total",
                    "area": "38",
                    "frequency": "A",
                    "measure": "actual",
                    "transformation": "level",
                    "unit": "count",
                }
            ]
        }
    )

    id: int
    indicator: str
    area: str
    frequency: str
    measure: str
    transformation: str
    unit: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None,
        description="The `cursor` of the next page; null on the last. The `Link` header "
        "(rel=next) gives the whole next URL.",
    )
    total: int = Field(
        description="How many items the whole selection holds, over every page.",
        examples=[5000],
    )


class ObservationPage(Page[ObservationOut]):
    """A page of observations (a name of its own: OpenAPI shows it to clients)."""


class Revision(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"revision": 42, "updated_at": "2026-11-26T08:00:00Z"}]}
    )

    revision: int
    updated_at: datetime
