"""Reference data (indicator catalogue, areas) synced from the shared data files."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.db.models import Area, DataRevision, Indicator
from chiso_shared import catalogue


async def sync_reference_data(session: AsyncSession) -> None:
    """Insert or update every catalogue indicator and area; never deletes (series refer to them)."""
    indicators = {row.code: row for row in (await session.scalars(select(Indicator))).all()}
    for item in catalogue.indicators():
        row = indicators.get(item.code) or Indicator(code=item.code)
        row.unit, row.name_vi, row.name_en = item.unit, item.name_vi, item.name_en
        row.reference = item.reference
        session.add(row)
    areas = {row.code: row for row in (await session.scalars(select(Area))).all()}
    for area in catalogue.areas():
        area_row = areas.get(area.code) or Area(code=area.code)
        area_row.name_vi, area_row.name_en, area_row.level = area.name_vi, area.name_en, area.level
        area_row.code_list, area_row.successor = area.code_list, area.successor
        area_row.valid_from, area_row.valid_to = area.valid_from, area.valid_to
        session.add(area_row)
    if await session.get(DataRevision, 1) is None:
        session.add(DataRevision(id=1, revision=0))
    await session.flush()
