"""The indicator catalogue and the area list: data files every service reads the same way."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class IndicatorDef:
    code: str
    unit: str
    name_vi: str
    name_en: str
    phrasings: tuple[str, ...]
    reference: str


@dataclass(frozen=True, slots=True)
class AreaDef:
    code: str
    name_vi: str
    name_en: str
    level: str  # country | province
    code_list: str  # "2004" (63 provinces) or "2025" (34 provinces); "" for the country
    valid_from: date | None
    valid_to: date | None
    aliases: tuple[str, ...]
    successor: str  # for a 2004-list province, the 2025-list area that took it over

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("chiso_shared").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(";") if part.strip())


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@cache
def indicators() -> tuple[IndicatorDef, ...]:
    return tuple(
        IndicatorDef(
            code=row["code"],
            unit=row["unit"],
            name_vi=row["name_vi"],
            name_en=row["name_en"],
            phrasings=_split(row.get("phrasings")),
            reference=row.get("reference") or "",
        )
        for row in _rows("indicators.tsv")
    )


@cache
def areas() -> tuple[AreaDef, ...]:
    return tuple(
        AreaDef(
            code=row["code"],
            name_vi=row["name_vi"],
            name_en=row["name_en"],
            level=row["level"],
            code_list=row.get("code_list") or "",
            valid_from=_date(row.get("valid_from")),
            valid_to=_date(row.get("valid_to")),
            aliases=_split(row.get("aliases")),
            successor=row.get("successor") or "",
        )
        for row in _rows("areas.tsv")
    )


# Each row of areas.tsv is one version of an area: a GSO code on one code list (QĐ 124/2004
# or QĐ 19/2025, in force 2025-07-01). A code outlives a merger when the merged province kept
# it, so "VN-24" is Bắc Giang until 2025-06-30 and the merged Bắc Ninh after.
LIST_2025_FROM = date(2025, 7, 1)


@cache
def area_codes() -> frozenset[str]:
    return frozenset(area.code for area in areas())


def area_versions(code: str) -> tuple[AreaDef, ...]:
    """The versions of one code, oldest first."""
    return _versions().get(code, ())


def area_on(code: str, day: date | None = None) -> AreaDef | None:
    """The version of `code` in force on `day` (the latest version when `day` is None or
    falls outside every version)."""
    versions = area_versions(code)
    if not versions:
        return None
    if day is not None:
        for version in versions:
            if version.valid_on(day):
                return version
    return versions[-1]


def predecessors(code: str) -> tuple[str, ...]:
    """The 2004-list codes merged into a 2025-list area (itself included when it kept its code)."""
    return tuple(
        area.code for area in areas() if area.code_list == "2004" and area.successor == code
    )


def code_list_on(day: date) -> str:
    return "2025" if day >= LIST_2025_FROM else "2004"


@cache
def _versions() -> dict[str, tuple[AreaDef, ...]]:
    grouped: dict[str, list[AreaDef]] = {}
    for area in areas():
        grouped.setdefault(area.code, []).append(area)
    return {
        code: tuple(sorted(rows, key=lambda a: a.valid_from or date.min))
        for code, rows in grouped.items()
    }
