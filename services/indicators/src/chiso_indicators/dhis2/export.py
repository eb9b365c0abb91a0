"""GET dataValueSets: current observations as DHIS2 data values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from chiso_indicators.dhis2.mapping import category_combo
from chiso_indicators.observations.queries import ObservationFilter, all_observations
from chiso_indicators.quality.notes import FOLLOW_UP, notes_for
from chiso_shared.errors import FieldError, PayloadTooLarge
from chiso_shared.periods import Period
from chiso_shared.quality import QualityNote

Locale = Literal["en", "vi"]

CSV_COLUMNS = (
    "dataelement",
    "period",
    "orgunit",
    "catoptcombo",
    "attroptcombo",
    "value",
    "storedby",
    "lastupdated",
    "comment",
    "followup",
)


async def data_values(
    session: AsyncSession,
    *,
    data_elements: list[str],
    periods: list[str],
    org_units: list[str],
    start_period: str | None,
    end_period: str | None,
    last_updated: datetime | None,
    cap: int,
    locale: Locale = "en",
    frequencies: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """The current values as DHIS2 data values; `frequencies`, when given, keeps the periods
    of those frequencies only (a data set's period type)."""
    filters = ObservationFilter(
        indicators=data_elements,
        areas=org_units,
        start_period=start_period,
        end_period=end_period,
        updated_after=last_updated,
    )
    rows = await all_observations(session, filters, cap=cap)
    if len(rows) > cap:
        raise PayloadTooLarge(
            f"The query matches more than {cap} values; narrow it.",
            code="indicators.dhis2_too_large",
            errors=[FieldError(field="query.dataElement", message="too many values")],
        )
    notes = await notes_for(session, [observation.id for observation, _ in rows])
    wanted = set(periods)
    values = []
    for observation, series in rows:
        # A stored period the grammar no longer takes has no DHIS2 form either.
        parsed = Period.try_parse(observation.period)
        period = parsed.to_dhis2() if parsed is not None else None
        if period is None or (wanted and observation.period not in wanted):
            continue
        if frequencies and parsed is not None and parsed.frequency not in frequencies:
            continue
        values.append(
            {
                "dataElement": series.indicator_code,
                "period": period,
                "orgUnit": series.area_code,
                "categoryOptionCombo": category_combo(series.transformation, series.unit),
                "attributeOptionCombo": series.measure.upper(),
                "value": format(observation.value, ".15g"),
                "storedBy": "chiso",
                "lastUpdated": observation.recorded_at.isoformat(),
                **_remarks(observation.status, notes.get(observation.id, ()), locale),
            }
        )
    return values


def _remarks(status: str, notes: Sequence[QualityNote], locale: Locale) -> dict[str, Any]:
    """`comment`: the OBS_STATUS (which an import of the set reads back), then the messages of
    the open flags, "; "-joined; `followup`: whether an open flag is an error or a warning."""
    open_flags = [note for note in notes if note.status == "open"]
    messages = [note.message_vi if locale == "vi" else note.message_en for note in open_flags]
    return {
        "comment": "; ".join([f"OBS_STATUS:{status}", *messages]),
        "followup": any(note.severity in FOLLOW_UP for note in open_flags),
    }
