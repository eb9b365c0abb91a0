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
    successor: str  # for a 2004-list province merged in 2025, the 2025-list area it joined


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
