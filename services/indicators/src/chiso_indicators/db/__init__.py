from __future__ import annotations

from pathlib import Path

from chiso_shared.db import upgrade, upgrade_async

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_indicators"


def migrate(url: str) -> None:
    """Apply this service's migrations to the database at `url`."""
    upgrade(MIGRATIONS, url, VERSION_TABLE)


async def migrate_async(url: str) -> None:
    await upgrade_async(MIGRATIONS, url, VERSION_TABLE)
