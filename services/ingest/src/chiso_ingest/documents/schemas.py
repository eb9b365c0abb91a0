"""The ingest API contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chiso_shared.catalogue import resolve_area, scope_of
from chiso_shared.facts import Fact
from chiso_shared.input_guard import no_nul

DocumentStatus = Literal["queued", "extracting", "extracted", "delivered", "failed"]


class DocumentMetadata(BaseModel):
    title: str | None = Field(default=None, max_length=1000)
    source_url: str | None = Field(default=None, max_length=2000)
    published: str | None = Field(
        default=None,
        pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$",
        description="Publication date hint for documents that do not state their period.",
        examples=["2023-12-25"],
    )
    scope: str | None = Field(
        default=None,
        max_length=16,
        description=(
            "Area hint for documents that do not name their province: an area code (`38`, `VN`), "
            "an ISO 3166-2 code marked as such (`iso:VN-21`) or, for one release, the old `VN-38` "
            "form. Stored as the facts' `scope` (`VN-38`). Through the gateway, an upload without "
            "it takes the uploading client's area, if the client has one. A provincial text that "
            "names no province and has no hint gets facts of unknown scope (null), which belong to"
            " no series."
        ),
        examples=["38"],
    )
    issuer: str | None = Field(default=None, max_length=500)
    uploaded_by: str | None = Field(
        default=None,
        max_length=200,
        description="Who sent the document; the gateway sets its client's id here.",
        examples=["ch_3f9a1c"],
    )

    @field_validator("scope", mode="after")
    @classmethod
    def _known_area(cls, scope: str | None) -> str | None:
        """A well-formed code that names no area ("VN-99") would leave the scope unknown
        without saying so: refused like a malformed one."""
        if scope is None:
            return None
        code = resolve_area(scope)
        if code is None:
            raise ValueError(f"{scope!r} is not an area code of the catalogue")
        return scope_of(code)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """Every text field, here and in `DocumentIn`: PostgreSQL cannot store NUL."""
        return no_nul(value) if isinstance(value, str) else value


class DocumentIn(DocumentMetadata):
    """JSON upload: `text`, or `content_base64` with a media type."""

    filename: str = Field(min_length=1, max_length=512, examples=["thanh-hoa-2023.txt"])
    media_type: str | None = Field(default=None, max_length=200, examples=["text/plain"])
    text: str | None = Field(default=None, description="The document as text.")
    content_base64: str | None = Field(default=None, description="The file, base64-encoded.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "filename": "thanh-hoa-2023.txt",
                    "text": "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh Thanh Hóa "
                    "ước đạt 2.980.000 thuê bao.",
                    "published": "2023-12-25",
                }
            ]
        }
    }


class DocumentAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                    "status": "queued",
                    "status_url": "http://127.0.0.1:8001/v1/documents/6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                    "duplicate": False,
                }
            ]
        }
    )

    id: str
    status: DocumentStatus
    status_url: str
    duplicate: bool = Field(description="True when the same text was already ingested.")


class JobState(BaseModel):
    """The document's latest extraction job: `failed` with attempts at the limit is the dead
    letter of a document whose worker died on every attempt; it is not retried."""

    status: Literal["queued", "running", "done", "failed"]
    attempts: int = Field(description="How many times a worker has taken the job.")
    max_attempts: int = Field(description="Attempts after which the job is failed for good.")
    last_error: str | None = Field(description="Why the last attempt failed, if it did.")


class DocumentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                    "filename": "thanh-hoa-2023.docx",
                    "media_type": (
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    ),
                    "encoding": None,
                    "size_bytes": 48213,
                    "chars": 18342,
                    "title": "Báo cáo tổng kết năm 2023",
                    "source_url": "https://stttt.thanhhoa.gov.vn/bao-cao-2023",
                    "published": "2023-12-20",
                    "scope": "VN-38",
                    "issuer": "Sở Thông tin và Truyền thông Thanh Hóa",
                    "status": "delivered",
                    "error": None,
                    "extractor_version": "0.8.0",
                    "fact_count": 96,
                    "uploaded_by": "ch_3f9a1c",
                    "created_at": "2026-11-26T08:00:00Z",
                    "updated_at": "2026-11-26T08:00:03Z",
                    "job": {
                        "status": "done",
                        "attempts": 1,
                        "max_attempts": 5,
                        "last_error": None,
                    },
                }
            ]
        }
    )

    id: str
    filename: str
    media_type: str
    encoding: str | None = Field(description="How a text file was decoded (e.g. tcvn3).")
    size_bytes: int
    chars: int
    title: str | None
    source_url: str | None
    published: str | None
    scope: str | None
    issuer: str | None
    status: DocumentStatus
    error: str | None
    extractor_version: str | None
    fact_count: int
    uploaded_by: str | None = Field(default=None, description="Who sent it (a client id).")
    created_at: datetime
    updated_at: datetime
    job: JobState | None = Field(default=None, description="The latest extraction job.")


class DocumentFacts(BaseModel):
    document_id: str
    extractor_version: str | None
    facts: list[Fact] = Field(
        description="The effective facts: the extractor's, with people's reviews applied (a "
        "reviewed fact carries `review`; a rejected one is left out)."
    )


DOCUMENT_SUMMARY_EXAMPLE: dict[str, Any] = {
    "id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
    "filename": "thanh-hoa-2023.docx",
    "title": "Báo cáo tổng kết năm 2023",
    "status": "delivered",
    "fact_count": 96,
    "reviewed_count": 3,
    "uploaded_by": "ch_3f9a1c",
    "scope": "VN-38",
    "published": "2023-12-20",
    "extractor_version": "0.8.0",
    "created_at": "2026-11-26T08:00:00Z",
    "updated_at": "2026-11-26T08:00:03Z",
}


class DocumentSummary(BaseModel):
    """A document in the list: what it is, where it stands, how much of it was reviewed."""

    model_config = ConfigDict(json_schema_extra={"examples": [DOCUMENT_SUMMARY_EXAMPLE]})

    id: str
    filename: str
    title: str | None
    status: DocumentStatus
    fact_count: int = Field(description="Facts the current extractor version read.")
    reviewed_count: int = Field(description="Spans whose current review is any action.")
    uploaded_by: str | None
    scope: str | None
    published: str | None
    extractor_version: str | None
    created_at: datetime
    updated_at: datetime


class DocumentList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [DOCUMENT_SUMMARY_EXAMPLE], "next_cursor": None}]}
    )

    items: list[DocumentSummary] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="The `cursor` of the next page, if any.")


class LayoutRegion(BaseModel):
    """Text offsets [start, end) and where they came from."""

    start: int
    end: int
    kind: Literal["cell", "page"]
    page: int | None = Field(default=None, description="PDF page, from 1.")
    table: int | None = Field(default=None, description="DOCX table, from 0 in document order.")
    row: int | None = None
    cell: int | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [{"start": 37, "end": 53, "kind": "cell", "table": 0, "row": 1, "cell": 0}]
        }
    }


class DocumentLayout(BaseModel):
    document_id: str
    regions: list[LayoutRegion]


class Reextraction(BaseModel):
    extractor_version: str = Field(description="The version the documents are re-read with.")
    queued: list[str] = Field(description="Documents queued; the others are already current.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "extractor_version": "0.2.0",
                    "queued": ["2f0c3e1a-7d4b-4c55-9a43-1b2f5e6d7c8a"],
                }
            ]
        }
    }
