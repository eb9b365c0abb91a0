from __future__ import annotations

from pathlib import Path

from chiso_shared.db import upgrade, upgrade_async

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_indicators"
# Foreign keys that PostgreSQL checks with statement-level triggers instead of constraints
# (migration 9b1d3c2e7f40): one anti-join per statement rather than one lookup per row.
TRIGGER_CHECKED = ("observations.series_id", "provenance.observation_id", "provenance.document_id")


def migrate(url: str) -> None:
    """Apply this service's migrations to the database at `url`."""
    upgrade(MIGRATIONS, url, VERSION_TABLE)


async def migrate_async(url: str) -> None:
    await upgrade_async(MIGRATIONS, url, VERSION_TABLE)
