"""Database plumbing shared by the services: declarative base, engines, sessions, migrations.

Each service owns its own database and its own Alembic tree; this module only holds what is
the same for all of them.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from sqlalchemy import DateTime, Dialect, MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from chiso_shared.times import as_utc

logger = logging.getLogger("chiso.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class Base(DeclarativeBase):
    """Abstract root; each service subclasses it with its own metadata."""

    __abstract__ = True


class UtcTimestamp(TypeDecorator[datetime]):
    """A point in time, stored in UTC and read back aware in UTC on every backend.

    PostgreSQL keeps the instant (`timestamptz`) but SQLite keeps only the wall clock, so a
    naive read there would be served without its `+00:00` and an aware value in another offset
    would be stored as that offset's wall clock. Binding converts to UTC (naive values are
    taken as UTC), reading attaches UTC: the same JSON on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, _dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """Alembic's `render_item`: a generated migration writes `UtcTimestamp` as the column type
    it is in the schema, so migrations stay plain SQLAlchemy (the UTC conversion is the
    models' business, not the database's)."""
    if kind == "type" and isinstance(item, UtcTimestamp):
        return "sa.DateTime(timezone=True)"
    return False


def utcnow() -> datetime:
    return datetime.now(UTC)


def sqlite_url(data_dir: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{(data_dir / f'{name}.db').resolve()}"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file URL, so a fresh data directory just works."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine; SQLite files get WAL, foreign keys and a busy timeout."""
    if is_sqlite(url):
        ensure_sqlite_dir(url)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=POOL_RECYCLE_SECONDS,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


# Connections older than this are replaced at checkout: bounds how long a connection that died
# without the server closing it (a dropped route, a failover) can linger in the pool.
POOL_RECYCLE_SECONDS = 1800


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A liveness check at checkout without a round trip (`pool_pre_ping` costs three: BEGIN,
    a query, ROLLBACK). asyncpg marks a connection closed as soon as the server ends it (a
    restart, `pg_terminate_backend`, an idle timeout); the pool then replaces it and retries."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """Yield one session; commit when the work succeeded, roll back when it raised."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def advisory_lock(session: AsyncSession, name: str) -> None:
    """Hold the PostgreSQL advisory lock `name` until the session's transaction ends, so
    service replicas doing the same thing at once (seeding reference rows at start-up) take
    turns, each seeing what the one before committed. SQLite: nothing (one process writes)."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(name.encode())
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def alembic_config(
    script_location: Path, url: str, version_table: str, runtime_role: str = ""
) -> Config:
    """Alembic's config for a service's tree; `runtime_role` is granted the service's row
    access after migrating (`chiso_shared.db_roles`), none when empty."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["url"] = url
    config.attributes["version_table"] = version_table
    config.attributes["runtime_role"] = runtime_role
    return config


def upgrade(
    script_location: Path,
    url: str,
    version_table: str,
    revision: str = "head",
    runtime_role: str = "",
) -> None:
    """Apply migrations synchronously (Alembic's env runs its own event loop)."""
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(script_location, url, version_table, runtime_role), revision)


async def upgrade_async(
    script_location: Path, url: str, version_table: str, runtime_role: str = ""
) -> None:
    """Apply migrations from inside a running event loop (lifespan start-up)."""
    await asyncio.to_thread(upgrade, script_location, url, version_table, runtime_role=runtime_role)
