"""The dataflow's structure: dimensions, codelists and the mapping to chiso's series columns.

SDMX ids allow only `A-Z a-z 0-9 _ @ $ -`, so indicator codes (`telecom.subscribers.total`)
and lowercase series values are upper-cased with `.` turned into `_`; `_reverse` refuses to
build the mapping back if two codes would collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from chiso_indicators.db.models import Series
from chiso_shared.catalogue import area_codes, area_versions, indicators
from chiso_shared.facts import Unit
from chiso_shared.languages import LANGUAGES, Language

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


@dataclass(frozen=True)
class Label:
    """A name in both of chiso's languages: SDMX names are localised (`xml:lang`)."""

    vi: str
    en: str

    def __call__(self, language: Language) -> str:
        return self.vi if language == "vi" else self.en

    def items(self) -> tuple[tuple[Language, str], ...]:
        return tuple((language, self(language)) for language in LANGUAGES)


FLOW_NAME = Label(
    "Chỉ tiêu CNTT-TT của các tỉnh Việt Nam", "ICT indicators of Vietnamese provinces"
)
DSD_NAME = Label("Cấu trúc số liệu chỉ tiêu CNTT-TT cấp tỉnh", "Province ICT indicators")
CONCEPTS_NAME = Label("Khái niệm của chiso", "chiso concepts")
CONSTRAINT = "CC_DF_PROVINCE_ICT_AVAILABILITY"
CONSTRAINT_NAME = Label("Số liệu hiện có", "Data availability")
# Spans (`2023-01/2023-11`, frequency X) have no SDMX 2.1 period form chiso can state exactly.
SDMX_FREQUENCIES = {
    "A": Label("Hằng năm", "Annual"),
    "S": Label("Nửa năm", "Half-yearly"),
    "Q": Label("Hằng quý", "Quarterly"),
    "M": Label("Hằng tháng", "Monthly"),
    "D": Label("Hằng ngày", "Daily"),
}
TRANSFORMATIONS = {
    "level": Label("Mức", "Level"),
    "change_previous": Label(
        "Thay đổi so với kỳ trước (phần trăm hoặc tuyệt đối)",
        "Change against the previous period (percent or absolute)",
    ),
    "change_plan": Label("Thay đổi so với kế hoạch", "Change against the plan"),
    "change_other": Label("Thay đổi so với gốc khác", "Change against another basis"),
    "ratio_previous": Label("Tỷ lệ so với kỳ trước (%)", "Ratio to the previous period (percent)"),
    "ratio_plan": Label("Tỷ lệ so với kế hoạch (%)", "Ratio to the plan (percent)"),
    "ratio_other": Label("Tỷ lệ so với gốc khác (%)", "Ratio to another basis (percent)"),
}
MEASURES = {"actual": Label("Thực hiện", "Actual"), "target": Label("Kế hoạch", "Target (plan)")}
UNITS = {
    Unit.count: Label("Số lượng", "Count"),
    Unit.VND: Label("Đồng Việt Nam", "Vietnamese dong"),
    Unit.USD: Label("Đô la Mỹ", "US dollar"),
    Unit.percent: Label("Phần trăm", "Percent"),
    Unit.per_100_people: Label("Trên 100 dân", "Per 100 people"),
    Unit.Mbps: Label("Mbps", "Mbps"),
    Unit.km: Label("Ki-lô-mét", "Kilometre"),
    Unit.hours_per_day: Label("Giờ mỗi ngày", "Hours per day"),
    Unit.rank: Label("Thứ hạng", "Rank"),
    Unit.other: Label("Đơn vị khác", "Other unit"),
}
OBS_STATUS = {
    "A": Label("Giá trị bình thường", "Normal value"),
    "P": Label("Giá trị sơ bộ", "Provisional value"),
    "E": Label("Giá trị ước tính", "Estimated value"),
    "F": Label("Giá trị dự báo (kế hoạch)", "Forecast value"),
}


def sdmx_id(value: str) -> str:
    return value.replace(".", "_").upper()


@dataclass(frozen=True)
class Dimension:
    id: str
    codelist: str
    column: str  # the Series attribute it maps to
    name: Label


DIMENSIONS = (
    Dimension("FREQ", "CL_FREQ", "frequency", Label("Tần suất", "Frequency")),
    Dimension("REF_AREA", "CL_AREA", "area_code", Label("Địa bàn", "Reference area")),
    Dimension("INDICATOR", "CL_INDICATOR", "indicator_code", Label("Chỉ tiêu", "Indicator")),
    Dimension(
        "MEASURE",
        "CL_MEASURE",
        "measure",
        Label("Loại số liệu: thực hiện hoặc kế hoạch", "Measure: actual or target"),
    ),
    Dimension(
        "TRANSFORMATION",
        "CL_TRANSFORMATION",
        "transformation",
        Label("Phép biến đổi", "Transformation"),
    ),
    Dimension("UNIT_MEASURE", "CL_UNIT", "unit", Label("Đơn vị tính", "Unit of measure")),
)
# The concepts that are not dimensions: the time dimension, the measure and the attributes.
OTHER_CONCEPTS = {
    TIME: Label("Thời kỳ", "Time period"),
    MEASURE_ID: Label("Giá trị quan sát", "Observation value"),
    STATUS_ATTR: Label("Trạng thái quan sát", "Observation status"),
    QUALITY_ATTR: Label(
        "Cảnh báo chất lượng số liệu đang mở (mã quy tắc, cách nhau bởi dấu cách)",
        "Open data-quality flags (rule codes, space-separated)",
    ),
}


def concepts() -> dict[str, Label]:
    """Every concept of the scheme, dimensions first, in DSD order."""
    return {**{d.id: d.name for d in DIMENSIONS}, **OTHER_CONCEPTS}


def _area_name(code: str) -> Label:
    """The latest name, with the earlier one where a 2025 merger renamed the code."""
    *earlier, latest = area_versions(code)
    renamed = [v for v in earlier if v.name_en != latest.name_en]
    if not renamed:
        return Label(latest.name_vi, latest.name_en)
    before_vi = "; ".join(f"{v.name_vi} đến {v.valid_to}" for v in renamed)
    before_en = "; ".join(f"{v.name_en} until {v.valid_to}" for v in renamed)
    return Label(
        f"{latest.name_vi} (danh mục {latest.code_list}; {before_vi})",
        f"{latest.name_en} (code list {latest.code_list}; {before_en})",
    )


@dataclass(frozen=True)
class Availability:
    """One cube region: dimension id -> codes with data, and the days the data cover."""

    codes: dict[str, list[str]]
    start: date | None
    end: date | None
    series_count: int
    obs_count: int


@dataclass(frozen=True)
class Codelist:
    name: Label
    codes: dict[str, Label]


@cache
def codelists() -> dict[str, Codelist]:
    """Codelist id -> its names and {code id: names}."""
    return {
        "CL_FREQ": Codelist(Label("Tần suất", "Frequency"), dict(SDMX_FREQUENCIES)),
        "CL_AREA": Codelist(
            Label("Địa bàn (cả nước, tỉnh)", "Areas (the country, provinces)"),
            {code: _area_name(code) for code in sorted(area_codes())},
        ),
        "CL_INDICATOR": Codelist(
            Label("Chỉ tiêu", "Indicators"),
            {sdmx_id(item.code): Label(item.name_vi, item.name_en) for item in indicators()},
        ),
        "CL_MEASURE": Codelist(
            Label("Loại số liệu", "Measures"),
            {sdmx_id(key): name for key, name in MEASURES.items()},
        ),
        "CL_TRANSFORMATION": Codelist(
            Label("Phép biến đổi", "Transformations"),
            {sdmx_id(key): name for key, name in TRANSFORMATIONS.items()},
        ),
        "CL_UNIT": Codelist(
            Label("Đơn vị tính", "Units of measure"),
            {sdmx_id(unit.value): name for unit, name in UNITS.items()},
        ),
        "CL_OBS_STATUS": Codelist(
            Label("Trạng thái quan sát", "Observation status"), dict(OBS_STATUS)
        ),
    }


@cache
def _reverse() -> dict[str, dict[str, str]]:
    """Dimension id -> {SDMX code: chiso value}."""
    natural = {
        "FREQ": list(SDMX_FREQUENCIES),
        "REF_AREA": sorted(area_codes()),
        "INDICATOR": [item.code for item in indicators()],
        "MEASURE": list(MEASURES),
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
