"""Reference data (indicator catalogue, areas) synced from the shared data files."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.db.models import Area, AreaVersion, DataRevision, Indicator
from chiso_shared import catalogue
from chiso_shared.db import advisory_lock


async def sync_reference_data(session: AsyncSession) -> None:
    """Insert or update every catalogue indicator and area; never deletes (series refer to them).

    Replicas starting together on one database take turns: without the lock both read no
    rows, both insert them, and the second process fails to start on a duplicate key."""
    await advisory_lock(session, "chiso_indicators.reference_data")
    indicators = {row.code: row for row in (await session.scalars(select(Indicator))).all()}
    for item in catalogue.indicators():
        row = indicators.get(item.code) or Indicator(code=item.code)
        row.unit, row.name_vi, row.name_en = item.unit, item.name_vi, item.name_en
        row.reference = item.reference
        session.add(row)
    await _sync_areas(session)
    if await session.get(DataRevision, 1) is None:
        session.add(DataRevision(id=1, revision=0))
    await session.flush()


async def _sync_areas(session: AsyncSession) -> None:
    """One `areas` row per code, named by its latest version; one `area_versions` row per
    code and code list."""
    areas = {row.code: row for row in (await session.scalars(select(Area))).all()}
    versions = {
        (row.code, row.code_list): row for row in (await session.scalars(select(AreaVersion)))
    }
    for code in sorted(catalogue.area_codes()):
        history = catalogue.area_versions(code)
        latest = history[-1]
        area = areas.get(code) or Area(code=code)
        area.name_vi, area.name_en, area.level = latest.name_vi, latest.name_en, latest.level
        area.code_list, area.successor = latest.code_list, latest.successor
        area.valid_from, area.valid_to = history[0].valid_from, latest.valid_to
        session.add(area)
        for item in history:
            row = versions.get((code, item.code_list)) or AreaVersion(
                code=code, code_list=item.code_list
            )
            row.name_vi, row.name_en, row.successor = item.name_vi, item.name_en, item.successor
            row.valid_from, row.valid_to = item.valid_from, item.valid_to
            row.iso_3166_2 = item.iso_3166_2
            session.add(row)
    await session.flush()
