"""The indicator catalogue and the area list: data files every service reads the same way."""

from __future__ import annotations

import csv
from collections.abc import Iterable
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
    code: str  # the GSO code as the GSO writes it ("38"), or "VN" for the country
    name_vi: str
    name_en: str
    level: str  # country | province
    code_list: str  # "2004" (63 provinces) or "2025" (34 provinces); "" for the country
    valid_from: date | None
    valid_to: date | None
    aliases: tuple[str, ...]
    successor: str  # for a 2004-list province, the 2025-list area that took it over
    iso_3166_2: str = ""  # where ISO has coded this version (the 63 provinces of 2004)

    @property
    def scope(self) -> str:
        """The code in the extraction contract (a fact's `scope`): `VN-38`, or `VN`."""
        return scope_of(self.code)

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
            iso_3166_2=row.get("iso_3166_2") or "",
        )
        for row in _rows("areas.tsv")
    )


# Each row of areas.tsv is one version of an area: a GSO code on one code list (QĐ 124/2004
# or QĐ 19/2025, in force 2025-07-01). A code outlives a merger when the merged province kept
# it, so "24" is Bắc Giang until 2025-06-30 and the merged Bắc Ninh after.
LIST_2025_FROM = date(2025, 7, 1)
COUNTRY = "VN"

# The public code is the GSO's own ("38"). The extraction contract (GUIDELINE `scope`) writes
# it with a `VN-` prefix, which looks like ISO 3166-2 but is not (ISO's VN-01 is Lai Châu, the
# GSO's 01 is Hà Nội), so the prefixed form lives only in facts and, for one release, as a
# deprecated alias. ISO codes are accepted only when they say so: `iso:VN-21`.
SCOPE_PREFIX = "VN-"
ISO_PREFIX = "iso:"


def scope_of(code: str) -> str:
    """The fact `scope` of a public area code: `38` -> `VN-38`, `VN` -> `VN`."""
    return code if code == COUNTRY else SCOPE_PREFIX + code


def code_of_scope(scope: str) -> str | None:
    """The public area code of a fact `scope` (`VN-38` -> `38`), None when it names none."""
    if scope == COUNTRY:
        return COUNTRY
    code = scope.removeprefix(SCOPE_PREFIX)
    return code if code != scope and code in area_codes() else None


def area_of_scope(scope: str | None) -> str:
    """The area a fact's `scope` files it under (`VN-38` -> `38`); a scope the catalogue does
    not know is kept as it is, so that a check against the known codes still refuses it."""
    return code_of_scope(str(scope)) or str(scope)


@cache
def scope_codes() -> frozenset[str]:
    """Every valid fact `scope` (the extraction contract's codes)."""
    return frozenset(scope_of(code) for code in area_codes())


def is_legacy_area(value: str) -> bool:
    """True for a pre-2026 chiso code (`VN-38`): answered for one release, then ISO's."""
    return value in scope_codes() and value != COUNTRY


@cache
def _iso_codes() -> dict[str, str]:
    return {area.iso_3166_2.casefold(): area.code for area in areas() if area.iso_3166_2}


def resolve_area(value: str) -> str | None:
    """The public code an input names: a code (`38`, `VN`), an ISO 3166-2 code marked as
    such (`iso:VN-21`) or, for one release, a legacy chiso code (`VN-38`); None if none."""
    if value in area_codes():
        return value
    if value[: len(ISO_PREFIX)].casefold() == ISO_PREFIX:
        return _iso_codes().get(value[len(ISO_PREFIX) :].strip().casefold())
    if is_legacy_area(value):
        return code_of_scope(value)
    return None


def is_province(code: str) -> bool:
    """Whether a public code names a province (not the country, not an unknown code)."""
    return code != COUNTRY and code in area_codes()


def resolve_areas(values: Iterable[str]) -> list[str]:
    """Each input resolved (`iso:VN-21` -> `38`); one that names no area stays as given, so a
    filter on it matches nothing rather than everything."""
    return [resolve_area(value) or value for value in values]


def area_code(value: str) -> str:
    """A pydantic validator: the public code an area input names, or a ValueError that says
    which forms are accepted."""
    code = resolve_area(value.strip())
    if code is None:
        raise ValueError("not an area code: write a GSO code (38), VN, or iso:VN-21")
    return code


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
