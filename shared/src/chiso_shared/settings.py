"""The settings every service has; each service adds its own fields and env prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from chiso_shared.db import sqlite_url
from chiso_shared.http import HttpClientSettings


class ServiceSettings(BaseSettings):
    """Base: env prefix set by subclasses (`CHISO_INGEST_`, ...)."""

    env: Literal["dev", "prod"] = Field(
        default="dev", description="`prod` turns off dev conveniences such as auto-migration."
    )
    data_dir: Path = Field(
        default=Path(".chiso"), description="Where SQLite files live when no URL is given."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default a SQLite file under the data directory.",
    )
    migrate_on_start: bool | None = Field(
        default=None, description="Apply migrations at start-up; default: only in dev."
    )
    log_level: str = Field(default="INFO")
    db_pool_size: int = Field(default=10, ge=1, le=200)
    http: HttpClientSettings = Field(default_factory=HttpClientSettings)
    request_head_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="`chiso serve` closes a connection whose request line and headers are not "
        "all received this long after it opened or after its previous answer (slowloris).",
    )

    service_name: str = "service"

    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir, self.service_name)

    def should_migrate_on_start(self) -> bool:
        return self.env == "dev" if self.migrate_on_start is None else self.migrate_on_start
