"""The body of every service's Alembic env.py: async, URL injected through config attributes."""

from __future__ import annotations

import asyncio
import zlib

from alembic import context
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from chiso_shared.db import is_sqlite, render_item
from chiso_shared.db_roles import grant_runtime_role


def run(
    metadata: MetaData,
    default_url: str,
    default_version_table: str,
    default_runtime_role: str = "",
) -> None:
    """Run the migrations. The URL, version table and runtime role come from the config's
    attributes (`chiso_shared.db.alembic_config`); the defaults, from the service's settings,
    serve the `alembic` command."""
    config = context.config
    url = str(config.attributes.get("url") or default_url)
    version_table = str(config.attributes.get("version_table") or default_version_table)
    runtime_role = str(config.attributes.get("runtime_role", default_runtime_role))

    def configure(connection: Connection | None) -> None:
        context.configure(
            connection=connection,
            url=url if connection is None else None,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=is_sqlite(url),
            compare_type=True,
            render_item=render_item,
            literal_binds=connection is None,
        )

    if context.is_offline_mode():
        configure(None)
        with context.begin_transaction():
            context.run_migrations()
        return

    def do_run(connection: Connection) -> None:
        configure(connection)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Replicas that start together migrate one at a time; the rest find it done.
                lock = zlib.crc32(version_table.encode())
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock})
            before = context.get_context().get_current_heads()
            context.run_migrations()
            if runtime_role:
                # In the migration's transaction: the schema never exists without the grants.
                migrated = context.get_context().get_current_heads() != before
                grant_runtime_role(connection, runtime_role, version_table, migrated=migrated)

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run_async())
