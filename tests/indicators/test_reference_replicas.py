"""Indicators replicas that start together on one PostgreSQL database both seed the reference
rows (catalogue, areas): the second waits for the first, then finds its rows, instead of
failing to start on a duplicate key (what two `chiso serve indicators` did before)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from chiso_indicators.db import migrate_async
from chiso_indicators.db.models import Area, Indicator
from chiso_indicators.reference import sync_reference_data
from chiso_shared import catalogue
from chiso_shared.db import create_engine, create_sessionmaker
from tests.support import postgres_url

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(postgres_url() is None, reason="one SQLite file is not shared by replicas"),
]


async def test_two_replicas_seeding_at_once_both_succeed(
    tmp_path: Path, indicators_db: str
) -> None:
    await migrate_async(indicators_db)
    engine = create_engine(indicators_db)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker() as first, sessionmaker() as second:
            await sync_reference_data(first)  # written, not yet committed
            other = asyncio.create_task(sync_reference_data(second))
            # The second is under way once its connection waits on a lock the first holds.
            async with engine.connect() as watch:
                while not other.done():
                    waiting = await watch.scalar(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                    )
                    await watch.rollback()
                    if waiting:
                        break
                    await asyncio.sleep(0.01)
            await first.commit()
            await other
            await second.commit()
        async with sessionmaker() as session:
            areas = await session.scalar(select(func.count()).select_from(Area))
            indicators = await session.scalar(select(func.count()).select_from(Indicator))
        assert areas == len(catalogue.area_codes())
        assert indicators == len(catalogue.indicators())
    finally:
        await engine.dispose()
