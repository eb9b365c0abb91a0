from __future__ import annotations

from pathlib import Path

from chiso_shared.db import upgrade, upgrade_async

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_gateway"


def migrate(url: str, runtime_role: str = "") -> None:
    """Apply this service's migrations to the database at `url`; then grant `runtime_role`
    (when given, on PostgreSQL) the row access the service runs with."""
    upgrade(MIGRATIONS, url, VERSION_TABLE, runtime_role=runtime_role)


async def migrate_async(url: str, runtime_role: str = "") -> None:
    await upgrade_async(MIGRATIONS, url, VERSION_TABLE, runtime_role)
