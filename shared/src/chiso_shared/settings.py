"""The settings every service has; each service adds its own fields and env prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from chiso_shared.db import sqlite_url
from chiso_shared.http import HttpClientSettings
from chiso_shared.service_auth import ServiceAuth, ServiceTokens, resolve_secret
from chiso_shared.tracing import TracingSettings


class ServiceSettings(TracingSettings, BaseSettings):
    """Base: env prefix set by subclasses (`CHISO_INGEST_`, ...); tracing's settings come
    from `chiso_shared.tracing`."""

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
    service_token_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the service tokens the services send each other; the same "
        "value in every service, at least 32 bytes when env is prod (required there). In dev "
        "without it, a random key kept in `<data_dir>/service-token.key` (logged as such).",
    )
    service_token_ttl_seconds: int = Field(
        default=60, ge=10, le=3600, description="Lifetime of the service tokens this one mints."
    )
    service_token_leeway_seconds: float = Field(
        default=5.0, ge=0, le=60, description="Clock skew allowed when checking `exp`/`iat`."
    )
    gzip_min_bytes: int = Field(
        default=1000,
        ge=0,
        description="Answers at least this large are gzip-compressed for a client that sends "
        "`Accept-Encoding: gzip` (streamed exports chunk by chunk); smaller ones are sent as "
        "they are, where compressing costs more than it saves.",
    )
    gzip_level: int = Field(
        default=1,
        ge=1,
        le=9,
        description="gzip's compression level, 1 to 9. On chiso's JSON, 1 leaves 21% of the "
        "bytes and 9 (Starlette's default) 16%, for five times the CPU (see the README's "
        "performance section).",
    )

    service_name: str = "service"

    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir, self.service_name)

    def should_migrate_on_start(self) -> bool:
        return self.env == "dev" if self.migrate_on_start is None else self.migrate_on_start

    def resolved_service_token_secret(self) -> str:
        """The service token secret; raises `ServiceTokenConfigError` when prod lacks one."""
        configured = self.service_token_secret
        prefix = str(self.model_config.get("env_prefix", ""))
        return resolve_secret(
            configured.get_secret_value() if configured is not None else None,
            env=self.env,
            data_dir=self.data_dir,
            setting=f"{prefix}SERVICE_TOKEN_SECRET",
        )

    def service_tokens(self, secret: str) -> ServiceTokens:
        """What this service mints for its calls to the others (issuer: its name)."""
        return ServiceTokens(secret, self.service_name, self.service_token_ttl_seconds)

    def service_auth(self, secret: str, *, open_reads: bool) -> ServiceAuth:
        """The check of service tokens sent to this service (audience: its name)."""
        return ServiceAuth(
            secret,
            self.service_name,
            open_reads=open_reads,
            leeway=self.service_token_leeway_seconds,
        )
