"""The indicators API contract: import batches, summaries, observations with provenance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chiso_shared.facts import Fact

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


class ImportConflict(BaseModel):
    index: int = Field(description="Position of the fact in `facts`.")
    field: str
    message: str


class ImportSummary(BaseModel):
    """Modelled on DHIS2's import summary."""

    status: Literal["OK", "WARNING"]
    dry_run: bool
    imported: int = Field(description="New (series, period) values.")
    updated: int = Field(description="New versions or corroborating sources of known values.")
    ignored: int = Field(description="Facts that changed nothing or have no series.")
    conflicts: list[ImportConflict] = Field(default_factory=list)
    revision: int = Field(description="The data revision after this import.")


class SourceOut(BaseModel):
    document_id: str
    document_name: str
    published: str
    start: int
    end: int
    text: str
    label: str | None
    extractor_version: str | None


class ObservationOut(BaseModel):
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
    status: str = Field(description="SDMX OBS_STATUS: A actual, E estimate, F target/forecast.")
    published: str
    recorded_at: datetime
    is_current: bool
    sources: list[SourceOut]


class IndicatorOut(BaseModel):
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


class AreaOut(BaseModel):
    """A GSO area code, named by its latest version, with its history and merger mapping."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "VN-24",
                    "name_vi": "Bắc Ninh",
                    "name_en": "Bac Ninh",
                    "level": "province",
                    "code_list": "2025",
                    "valid_from": "2004-01-01",
                    "valid_to": None,
                    "successor": None,
                    "predecessors": ["VN-24", "VN-27"],
                    "versions": [
                        {
                            "code_list": "2004",
                            "name_vi": "Bắc Giang",
                            "name_en": "Bac Giang",
                            "valid_from": "2004-01-01",
                            "valid_to": "2025-06-30",
                            "successor": "VN-24",
                        },
                        {
                            "code_list": "2025",
                            "name_vi": "Bắc Ninh",
                            "name_en": "Bac Ninh",
                            "valid_from": "2025-07-01",
                            "valid_to": None,
                            "successor": None,
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
    predecessors: list[str] = Field(
        description="The 2004-list codes merged into this 2025-list area (itself included)."
    )
    versions: list[AreaVersionOut]


class SeriesOut(BaseModel):
    id: int
    indicator: str
    area: str
    frequency: str
    measure: str
    transformation: str
    unit: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class Revision(BaseModel):
    revision: int
    updated_at: datetime
