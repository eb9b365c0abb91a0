from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chiso_ingest.formats import READERS, Limits, SandboxLimits
from chiso_shared.body_limit import upload_request_bytes
from chiso_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Ingest service settings, read from `CHISO_INGEST_*` variables."""

    model_config = SettingsConfigDict(env_prefix="CHISO_INGEST_", env_nested_delimiter="__")

    service_name: str = "ingest"
    indicators_url: str = Field(
        default="http://127.0.0.1:8002", description="Base URL of the indicators service."
    )
    open_reads: bool = Field(
        default=False,
        description="Answer reads (GET: status, facts, text) without a service token; writes "
        "always need one.",
    )
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1, description="Largest document accepted (413 above)."
    )
    max_request_bytes: int | None = Field(
        default=None,
        ge=1,
        description="Largest request body, counted while it streams in, chunked or not (413 "
        "above, before the rest is read). Default: room for a `max_upload_bytes` document sent "
        "base64-encoded in JSON, 4/3 of it plus 64 KiB.",
    )
    max_chars: int = Field(
        default=2_000_000, ge=1, description="Most characters of decoded text per document."
    )
    max_pages: int = Field(default=500, ge=1, description="Most pages read from a PDF.")
    parse_timeout: float = Field(
        default=30, gt=0, description="Seconds a file may take to read before it is refused."
    )
    parse_memory_bytes: int = Field(
        default=1024 * 1024 * 1024,
        ge=0,
        description="Address space of the child process that reads one file (0: no limit).",
    )
    parse_parallel: int = Field(
        default=2, ge=1, description="Files read at once; further uploads wait their turn."
    )
    max_zip_entries: int = Field(default=1000, ge=1, description="Most parts in a DOCX.")
    max_unzipped_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="Most bytes a DOCX may inflate to."
    )
    max_zip_ratio: float = Field(
        default=100, gt=1, description="Largest inflation ratio of a DOCX part over 1 MiB."
    )
    accepted_media_types: list[str] = Field(
        default_factory=lambda: list(READERS),
        description="Media types accepted for upload (415 otherwise).",
    )
    max_facts: int = Field(
        default=20_000,
        ge=1,
        description="Most facts one document may give; a document over it fails with the "
        "reason (the largest sample report gives 267).",
    )
    max_facts_per_1000_chars: int = Field(
        default=250,
        ge=1,
        description="Most facts per started 1000 characters of text (a dense table of small "
        "numbers gives about 100; a text of bare numbers 500); a document over it fails.",
    )
    extract_timeout: float = Field(
        default=60, gt=0, description="Seconds one document's extraction may take."
    )
    extract_memory_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=0,
        description="Address space of the child process that extracts one document (0: no limit).",
    )
    run_worker: bool = Field(
        default=True, description="Run the extraction and delivery loops in this process."
    )
    poll_interval: float = Field(default=0.5, gt=0, description="Seconds between queue polls.")
    job_lease_seconds: float = Field(
        default=300, gt=0, description="A claimed job not finished by then is retried."
    )
    max_job_attempts: int = Field(
        default=5,
        ge=1,
        description="Times a job is taken (a failed extraction, or a worker that died on it) "
        "before it is failed for good: the document's status becomes failed with the reason.",
    )
    delivery_batch_size: int = Field(default=5000, ge=1, description="Facts per delivery call.")
    default_page_size: int = Field(
        default=50, ge=1, description="Items per page of the document list and review queue."
    )
    max_page_size: int = Field(
        default=500, ge=1, description="Largest `limit` of those pages (422 above)."
    )
    retry_base_seconds: float = Field(default=0.5, gt=0, description="First retry delay.")
    retry_max_seconds: float = Field(default=60, gt=0, description="Longest retry delay.")
    shutdown_grace_seconds: float = Field(
        default=10, gt=0, description="How long the worker may finish its step at shutdown."
    )
    sentence_max_chars: int = Field(
        default=1000,
        ge=100,
        le=100_000,
        description="Longest sentence GET /v1/documents/{id}/sentence answers; a longer one "
        "is answered as this many characters around the span, with `truncated: true`.",
    )


def limits_of(settings: Settings) -> Limits:
    """The reader limits these settings define."""
    return Limits(
        max_chars=settings.max_chars,
        max_pages=settings.max_pages,
        max_zip_entries=settings.max_zip_entries,
        max_unzipped_bytes=settings.max_unzipped_bytes,
        max_zip_ratio=settings.max_zip_ratio,
    )


def extraction_limits_of(settings: Settings) -> SandboxLimits:
    """The limits of the process each document is extracted in (one at a time per worker)."""
    return SandboxLimits(
        timeout=settings.extract_timeout,
        memory_bytes=settings.extract_memory_bytes,
        parallel=1,
    )


def sandbox_limits_of(settings: Settings) -> SandboxLimits:
    """The limits of the process each uploaded file is read in."""
    return SandboxLimits(
        timeout=settings.parse_timeout,
        memory_bytes=settings.parse_memory_bytes,
        parallel=settings.parse_parallel,
    )


def request_limit_of(settings: Settings) -> int:
    """The most bytes a request body may have."""
    if settings.max_request_bytes is not None:
        return settings.max_request_bytes
    return upload_request_bytes(settings.max_upload_bytes)
