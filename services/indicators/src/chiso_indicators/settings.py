from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chiso_shared.settings import ServiceSettings


class Settings(ServiceSettings):
    """Indicators service settings, read from `CHISO_INDICATORS_*` variables."""

    model_config = SettingsConfigDict(env_prefix="CHISO_INDICATORS_", env_nested_delimiter="__")

    service_name: str = "indicators"
    max_batch_facts: int = Field(default=50_000, ge=1, description="Facts per POST /v1/facts.")
    max_request_bytes: int = Field(
        default=128 * 1024 * 1024,
        ge=1024,
        description="Largest request body (a facts batch or a DHIS2 import), counted as it "
        "streams in, chunked or not; over it: 413. 50,000 facts take about 30 MB.",
    )
    default_page_size: int = Field(default=100, ge=1)
    max_page_size: int = Field(
        default=1000,
        ge=1,
        description="Largest `limit` accepted; also the rows a whole-selection export reads "
        "from the database at a time.",
    )
    open_reads: bool = Field(
        default=False,
        description="Answer reads (GET) without a service token; writes always need one.",
    )
    max_export_observations: int = Field(
        default=100_000,
        ge=1,
        description="Most observations in one export: a whole-selection CSV or XLSX of "
        "/v1/observations, an SDMX or DHIS2 export. A larger selection is refused whole (413, "
        "saying how many rows matched), never cut.",
    )
    quality_checks: bool = Field(
        default=True,
        description="Run the data-quality checks inside every import (issue 18); off, no flag "
        "is raised or cleared.",
    )
    quality_rules_path: Path | None = Field(
        default=None,
        description="A rule book (TOML) to use instead of the packaged "
        "chiso_indicators/quality/data/rules.toml.",
    )
