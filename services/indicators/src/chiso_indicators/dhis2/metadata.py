"""The DHIS2 metadata a DHIS2 administrator maps chiso's codes with: data elements, organisation
units (the country at level 1, provinces at level 2), category combos and their option combos,
and data sets, built from the catalogue (`chiso_shared.catalogue`).

Ids are DHIS2 uids (11 characters, a letter first) derived from each object's kind and code, so
they are the same on every chiso and every run; DHIS2's default combo keeps DHIS2's own uids.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any, Literal

from chiso_indicators.dhis2.mapping import (
    DEFAULT_CATEGORY_COMBO_UID,
    DEFAULT_COMBO,
    DEFAULT_COMBO_UID,
    MEASURES,
    combos,
)
from chiso_shared.catalogue import AreaDef, area_versions, areas, indicators

Locale = Literal["en", "vi"]
Kind = Literal[
    "dataElements", "organisationUnits", "categoryCombos", "categoryOptionCombos", "dataSets"
]
KINDS: tuple[Kind, ...] = (
    "dataElements",
    "organisationUnits",
    "categoryCombos",
    "categoryOptionCombos",
    "dataSets",
)

_FIRST = string.ascii_letters
_REST = string.ascii_letters + string.digits


def uid(kind: str, code: str) -> str:
    """A DHIS2 uid (a letter, then 10 letters or digits) for the object `code` of `kind`."""
    number = int.from_bytes(hashlib.sha256(f"chiso:{kind}:{code}".encode()).digest(), "big")
    number, first = divmod(number, len(_FIRST))
    chars = [_FIRST[first]]
    for _ in range(10):
        number, index = divmod(number, len(_REST))
        chars.append(_REST[index])
    return "".join(chars)


def _named(locale: Locale, en: str, vi: str) -> dict[str, str]:
    name = vi if locale == "vi" else en
    # DHIS2 holds a short name to 50 characters.
    short = name if len(name) <= 50 else name[:49] + "…"
    return {"name": name, "displayName": name, "shortName": short, "displayShortName": short}


# --- category combos and option combos -------------------------------------------------------

TRANSFORMATION_COMBO = "CHISO_TRANSFORMATION_UNIT"
MEASURE_COMBO = "CHISO_MEASURE"
_TRANSFORMATION_NAMES = {
    "level": ("Level", "Mức"),
    "change_previous": ("Change on the previous period", "Thay đổi so với kỳ trước"),
    "change_plan": ("Change against the plan", "Thay đổi so với kế hoạch"),
    "change_other": ("Change on another basis", "Thay đổi so với cơ sở khác"),
    "ratio_previous": ("Ratio to the previous period", "Tỷ lệ so với kỳ trước"),
    "ratio_plan": ("Ratio to the plan", "Tỷ lệ so với kế hoạch"),
    "ratio_other": ("Ratio to another basis", "Tỷ lệ so với cơ sở khác"),
}
_UNIT_NAMES = {
    "count": ("count", "số lượng"),
    "VND": ("VND", "đồng"),
    "USD": ("USD", "USD"),
    "percent": ("percent", "phần trăm"),
    "per_100_people": ("per 100 people", "trên 100 dân"),
    "Mbps": ("Mbps", "Mbps"),
    "km": ("km", "km"),
    "hours_per_day": ("hours per day", "giờ mỗi ngày"),
    "rank": ("rank", "thứ hạng"),
    "other": ("other unit", "đơn vị khác"),
}
_MEASURE_NAMES = {"ACTUAL": ("Actual", "Thực tế"), "TARGET": ("Target (plan)", "Kế hoạch")}


def _option_combos(locale: Locale) -> list[dict[str, Any]]:
    default = {
        "id": DEFAULT_COMBO_UID,
        "code": DEFAULT_COMBO,
        **_named(locale, DEFAULT_COMBO, DEFAULT_COMBO),
        "categoryCombo": {"id": DEFAULT_CATEGORY_COMBO_UID},
        "ignoreApproval": False,
    }
    found = [default]
    for code, (transformation, unit) in combos().items():
        en, vi = _TRANSFORMATION_NAMES[transformation]
        unit_en, unit_vi = _UNIT_NAMES.get(unit.value, (unit.value, unit.value))
        found.append(
            {
                "id": uid("categoryOptionCombos", code),
                "code": code,
                **_named(locale, f"{en}, {unit_en}", f"{vi}, {unit_vi}"),
                "categoryCombo": {"id": uid("categoryCombos", TRANSFORMATION_COMBO)},
                "ignoreApproval": False,
            }
        )
    for code in MEASURES:
        en, vi = _MEASURE_NAMES[code]
        found.append(
            {
                "id": uid("categoryOptionCombos", code),
                "code": code,
                **_named(locale, en, vi),
                "categoryCombo": {"id": uid("categoryCombos", MEASURE_COMBO)},
                "ignoreApproval": False,
            }
        )
    return found


def _category_combos(locale: Locale) -> list[dict[str, Any]]:
    options = _option_combos(locale)

    def combo(id_: str, code: str, en: str, vi: str, kind: str) -> dict[str, Any]:
        members = [{"id": o["id"]} for o in options if o["categoryCombo"]["id"] == id_]
        return {
            "id": id_,
            "code": code,
            **_named(locale, en, vi),
            "dataDimensionType": kind,
            "categoryOptionCombos": members,
        }

    return [
        combo(
            DEFAULT_CATEGORY_COMBO_UID,
            DEFAULT_COMBO,
            DEFAULT_COMBO,
            DEFAULT_COMBO,
            "DISAGGREGATION",
        ),
        combo(
            uid("categoryCombos", TRANSFORMATION_COMBO),
            TRANSFORMATION_COMBO,
            "Transformation and unit",
            "Cách tính và đơn vị",
            "DISAGGREGATION",
        ),
        combo(
            uid("categoryCombos", MEASURE_COMBO),
            MEASURE_COMBO,
            "Actual or target",
            "Thực tế hay kế hoạch",
            "ATTRIBUTE",
        ),
    ]


# --- data elements ---------------------------------------------------------------------------

# How DHIS2 may add values up across org units and periods: counts and amounts sum; rates,
# shares and speeds average; a rank does not aggregate.
_AGGREGATION = {"count": "SUM", "VND": "SUM", "USD": "SUM", "km": "SUM", "rank": "NONE"}


def _data_elements(locale: Locale) -> list[dict[str, Any]]:
    return [
        {
            "id": uid("dataElements", item.code),
            "code": item.code,
            **_named(locale, item.name_en, item.name_vi),
            "description": item.reference,
            "valueType": "NUMBER",
            "aggregationType": _AGGREGATION.get(item.unit, "AVERAGE"),
            "domainType": "AGGREGATE",
            "zeroIsSignificant": True,
            "categoryCombo": {"id": uid("categoryCombos", TRANSFORMATION_COMBO)},
        }
        for item in indicators()
    ]


# --- organisation units ----------------------------------------------------------------------

# The country has no start in the area list: it opens with the earliest code list chiso knows.
COUNTRY_OPENING = date(2004, 1, 1)


def _day(value: date | None) -> str | None:
    return f"{value.isoformat()}T00:00:00.000" if value else None


def _area_codes(level: str) -> list[str]:
    return list(dict.fromkeys(area.code for area in areas() if area.level == level))


def _history(versions: tuple[AreaDef, ...], locale: Locale) -> str:
    """A code's names through the code lists (a DHIS2 org unit has one name; chiso's code
    outlives a merger, so `24` was Bắc Giang before 2025-07-01 and is Bắc Ninh after)."""
    parts = []
    for version in versions:
        name = version.name_vi if locale == "vi" else version.name_en
        start = version.valid_from.isoformat() if version.valid_from else "…"
        end = version.valid_to.isoformat() if version.valid_to else "…"
        parts.append(f"{name} ({version.code_list}: {start} – {end})")
    merged = versions[-1].successor if versions[-1].valid_to else ""
    if merged and merged != versions[-1].code:
        parts.append(f"sáp nhập vào {merged}" if locale == "vi" else f"merged into {merged}")
    return "; ".join(parts)


def _org_units(locale: Locale) -> list[dict[str, Any]]:
    countries = _area_codes("country")
    provinces = _area_codes("province")
    found: list[dict[str, Any]] = []
    for code in countries:
        (country,) = area_versions(code)[-1:]
        id_ = uid("organisationUnits", code)
        found.append(
            {
                "id": id_,
                "code": code,
                **_named(locale, country.name_en, country.name_vi),
                "level": 1,
                "path": f"/{id_}",
                "openingDate": _day(COUNTRY_OPENING),
                "children": [{"id": uid("organisationUnits", p)} for p in provinces],
            }
        )
    country_id = uid("organisationUnits", countries[0])
    for code in provinces:
        versions = area_versions(code)
        latest = versions[-1]
        id_ = uid("organisationUnits", code)
        opened = min((v.valid_from for v in versions if v.valid_from), default=COUNTRY_OPENING)
        unit: dict[str, Any] = {
            "id": id_,
            "code": code,
            **_named(locale, latest.name_en, latest.name_vi),
            "description": _history(versions, locale),
            "level": 2,
            "path": f"/{country_id}/{id_}",
            "parent": {"id": country_id},
            "children": [],
            "openingDate": _day(opened),
        }
        if latest.valid_to is not None:
            unit["closedDate"] = _day(latest.valid_to)
        found.append(unit)
    return found


# --- data sets -------------------------------------------------------------------------------

# chiso's frequencies that DHIS2 has a period type for, one data set each (a DHIS2 data set
# has one period type).
PERIOD_TYPES = {
    "YEARLY": ("Yearly", "yearly", "theo năm"),
    "SIXMONTHLY": ("SixMonthly", "six-monthly", "theo nửa năm"),
    "QUARTERLY": ("Quarterly", "quarterly", "theo quý"),
    "MONTHLY": ("Monthly", "monthly", "theo tháng"),
    "DAILY": ("Daily", "daily", "theo ngày"),
}
_FREQUENCIES = {"YEARLY": "A", "SIXMONTHLY": "S", "QUARTERLY": "Q", "MONTHLY": "M", "DAILY": "D"}


def data_set_codes() -> list[str]:
    return [f"CHISO_{suffix}" for suffix in PERIOD_TYPES]


def data_set_frequency(identifier: str) -> str | None:
    """The chiso frequency (`A`, `Q`...) of a data set given by code or uid; None if unknown."""
    code = codes_by_uid("dataSets").get(identifier, identifier)
    suffix = code.removeprefix("CHISO_")
    return _FREQUENCIES.get(suffix) if code.startswith("CHISO_") else None


def as_code(kind: Kind, identifier: str) -> str:
    """The code of an object given by code or uid (anything else as it is)."""
    return codes_by_uid(kind).get(identifier, identifier)


def parents() -> frozenset[str]:
    """The codes of the org units that have children (the country)."""
    return frozenset(u["code"] for u in objects("organisationUnits", "en") if u.get("children"))


def _data_sets(locale: Locale) -> list[dict[str, Any]]:
    elements = [{"dataElement": {"id": e["id"]}} for e in _data_elements(locale)]
    units = [{"id": u["id"]} for u in _org_units(locale)]
    return [
        {
            "id": uid("dataSets", f"CHISO_{suffix}"),
            "code": f"CHISO_{suffix}",
            **_named(locale, f"chiso indicators, {en}", f"Chỉ tiêu chiso, {vi}"),
            "periodType": period_type,
            "categoryCombo": {"id": uid("categoryCombos", MEASURE_COMBO)},
            "dataSetElements": elements,
            "organisationUnits": units,
        }
        for suffix, (period_type, en, vi) in PERIOD_TYPES.items()
    ]


_BUILDERS = {
    "dataElements": _data_elements,
    "organisationUnits": _org_units,
    "categoryCombos": _category_combos,
    "categoryOptionCombos": _option_combos,
    "dataSets": _data_sets,
}


@cache
def objects(kind: Kind, locale: Locale) -> tuple[dict[str, Any], ...]:
    """Every object of `kind`, with every field chiso serves (callers copy what they change)."""
    return tuple(_BUILDERS[kind](locale))


@cache
def by_id(locale: Locale) -> dict[str, dict[str, Any]]:
    """Every object of every kind by uid, to expand references (`parent[id,name]`)."""
    return {item["id"]: item for kind in KINDS for item in objects(kind, locale)}


@cache
def codes_by_uid(kind: Kind) -> dict[str, str]:
    """uid -> code of every object of `kind` (the names are the same in both locales)."""
    return {item["id"]: item["code"] for item in objects(kind, "en")}


def find(kind: Kind, locale: Locale, ids: Iterable[str]) -> list[dict[str, Any]]:
    wanted = set(ids)
    return [item for item in objects(kind, locale) if item["id"] in wanted]
