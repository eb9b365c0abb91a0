"""The settings every service has; each service adds its own fields and env prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings

from chiso_shared.db import sqlite_url
from chiso_shared.example_secrets import refuse_example_secrets
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
    migration_database_url: str | None = Field(
        default=None,
        description="What `chiso migrate` and migration at start-up connect as: a role that "
        "owns the schema. Empty: DATABASE_URL (one role for both).",
    )
    database_runtime_role: str = Field(
        default="",
        max_length=63,
        description="PostgreSQL role the service runs as (the user of DATABASE_URL): after "
        "each migration it is granted the DML it needs on the schema's tables and sequences, "
        "and the same on tables later migrations create, nothing more. Empty: no grants. "
        "Ignored on SQLite.",
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

    metrics_enabled: bool = Field(
        default=True,
        description="Count requests and the service's work as Prometheus metrics and serve "
        "them (at `metrics_path`, on the app's port or on `metrics_port`).",
    )
    metrics_path: str = Field(
        default="/metrics",
        pattern=r"^/[A-Za-z0-9._~/-]*$",
        description="Where the metrics are served. On the app's port it is answered ahead of "
        "every route and middleware: the gateway neither authenticates nor forwards it.",
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="0: metrics on the app's own port. Above 0: only on a listener of their "
        "own on this port (the app's port answers 404 there), e.g. 9102 in Kubernetes, so an "
        "Ingress to the app never exposes them.",
    )
    metrics_host: str = Field(
        default="0.0.0.0",
        description="Address the metrics listener binds when `metrics_port` is set: every "
        "interface, so Prometheus in another pod reaches it (NetworkPolicy limits who may).",
    )

    service_name: str = "service"

    @model_validator(mode="after")
    def _no_example_secrets_in_prod(self) -> Self:
        """Prod refuses the published placeholders (`.env.example`, docker-compose.yml) in
        every secret and URL password, this service's own fields included."""
        if self.env == "prod":
            refuse_example_secrets(self)
        return self

    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir, self.service_name)

    def resolved_migration_database_url(self) -> str:
        """The URL migrations run on: MIGRATION_DATABASE_URL, else the service's own."""
        return self.migration_database_url or self.resolved_database_url()

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
