"""The dataflow's structure: dimensions, codelists and the mapping to chiso's series columns.

SDMX ids allow only `A-Z a-z 0-9 _ @ $ -`, so indicator codes (`telecom.subscribers.total`)
and lowercase series values are upper-cased with `.` turned into `_`; `_reverse` refuses to
build the mapping back if two codes would collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from chiso_indicators.db.models import Series
from chiso_shared.catalogue import area_codes, area_versions, indicators
from chiso_shared.facts import Unit

AGENCY = "CHISO"
VERSION = "1.0"
FLOW = "DF_PROVINCE_ICT"
DSD = "DSD_PROVINCE_ICT"
CONCEPTS = "CS_PROVINCE_ICT"
TIME = "TIME_PERIOD"
MEASURE_ID = "OBS_VALUE"
STATUS_ATTR = "OBS_STATUS"
# The rule codes of the open data-quality flags on a value, space-separated (issue 18); absent
# on a value without any.
QUALITY_ATTR = "QUALITY_FLAG"
# Spans (`2023-01/2023-11`, frequency X) have no SDMX 2.1 period form chiso can state exactly.
SDMX_FREQUENCIES = {
    "A": "Annual",
    "S": "Half-yearly",
    "Q": "Quarterly",
    "M": "Monthly",
    "D": "Daily",
}
TRANSFORMATIONS = {
    "level": "Level",
    "change_previous": "Change against the previous period (percent or absolute)",
    "change_plan": "Change against the plan",
    "change_other": "Change against another basis",
    "ratio_previous": "Ratio to the previous period (percent)",
    "ratio_plan": "Ratio to the plan (percent)",
    "ratio_other": "Ratio to another basis (percent)",
}
OBS_STATUS = {
    "A": "Normal value",
    "P": "Provisional value",
    "E": "Estimated value",
    "F": "Forecast value",
}


def sdmx_id(value: str) -> str:
    return value.replace(".", "_").upper()


@dataclass(frozen=True)
class Dimension:
    id: str
    codelist: str
    column: str  # the Series attribute it maps to
    name: str


DIMENSIONS = (
    Dimension("FREQ", "CL_FREQ", "frequency", "Frequency"),
    Dimension("REF_AREA", "CL_AREA", "area_code", "Reference area (VN, VN-xx)"),
    Dimension("INDICATOR", "CL_INDICATOR", "indicator_code", "Indicator"),
    Dimension("MEASURE", "CL_MEASURE", "measure", "Measure: actual or target"),
    Dimension("TRANSFORMATION", "CL_TRANSFORMATION", "transformation", "Transformation"),
    Dimension("UNIT_MEASURE", "CL_UNIT", "unit", "Unit of measure"),
)


def _area_name(code: str) -> str:
    """The latest English name, with the earlier one where a 2025 merger renamed the code."""
    *earlier, latest = area_versions(code)
    renamed = [v for v in earlier if v.name_en != latest.name_en]
    if not renamed:
        return latest.name_en
    before = "; ".join(f"{v.name_en} until {v.valid_to}" for v in renamed)
    return f"{latest.name_en} (code list {latest.code_list}; {before})"


@cache
def codelists() -> dict[str, dict[str, str]]:
    """Codelist id -> {code id: English name}."""
    return {
        "CL_FREQ": dict(SDMX_FREQUENCIES),
        "CL_AREA": {code: _area_name(code) for code in sorted(area_codes())},
        "CL_INDICATOR": {sdmx_id(item.code): item.name_en for item in indicators()},
        "CL_MEASURE": {"ACTUAL": "Actual", "TARGET": "Target (plan)"},
        "CL_TRANSFORMATION": {sdmx_id(key): name for key, name in TRANSFORMATIONS.items()},
        "CL_UNIT": {sdmx_id(unit.value): unit.value for unit in Unit},
        "CL_OBS_STATUS": dict(OBS_STATUS),
    }


@cache
def _reverse() -> dict[str, dict[str, str]]:
    """Dimension id -> {SDMX code: chiso value}."""
    natural = {
        "FREQ": list(SDMX_FREQUENCIES),
        "REF_AREA": sorted(area_codes()),
        "INDICATOR": [item.code for item in indicators()],
        "MEASURE": ["actual", "target"],
        "TRANSFORMATION": list(TRANSFORMATIONS),
        "UNIT_MEASURE": [unit.value for unit in Unit],
    }
    reverse: dict[str, dict[str, str]] = {}
    for dimension, values in natural.items():
        mapping = {v if dimension in ("FREQ", "REF_AREA") else sdmx_id(v): v for v in values}
        if len(mapping) != len(values):
            raise RuntimeError(f"SDMX ids for {dimension} collide")
        reverse[dimension] = mapping
    return reverse


def to_chiso(dimension: str, code: str) -> str | None:
    return _reverse()[dimension].get(code)


def series_key(series: Series) -> tuple[str, ...]:
    """The SDMX codes of a series, in DSD order."""
    return tuple(
        str(getattr(series, d.column))
        if d.id in ("FREQ", "REF_AREA")
        else sdmx_id(str(getattr(series, d.column)))
        for d in DIMENSIONS
    )
