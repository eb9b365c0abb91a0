"""Chiso series and periods in DHIS2 terms, and back.

dataElement = indicator code; orgUnit = area code (idScheme=code); categoryOptionCombo =
TRANSFORMATION_UNIT (`LEVEL_COUNT`, `CHANGE_PREVIOUS_PERCENT`), because DHIS2 gives one data
element one value type and a change may be stated in percent or in units; attributeOptionCombo
= ACTUAL or TARGET (a plan target is a separate series, not a status); the SDMX OBS_STATUS goes
in `comment` as `OBS_STATUS:E`.
"""

from __future__ import annotations

import re

from chiso_shared.facts import Basis, Role, Unit

_DHIS2_PERIOD = re.compile(r"^(\d{4})(?:(Q[1-4])|(S[12])|(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])?)?$")


def to_dhis2_period(period: str) -> str | None:
    """`2023-Q1` -> `2023Q1`, `2023-11` -> `202311`; spans have no DHIS2 form (None)."""
    if "/" in period:
        return None
    return period.replace("-", "")


def from_dhis2_period(period: str) -> str | None:
    match = _DHIS2_PERIOD.match(period)
    if match is None:
        return None
    year, quarter, half, month, day = match.groups()
    if quarter or half:
        return f"{year}-{quarter or half}"
    if month:
        return f"{year}-{month}" + (f"-{day}" if day else "")
    return year


def category_combo(transformation: str, unit: str) -> str:
    return f"{transformation}_{unit}".upper()


_ROLE_BASIS = {
    "level": (Role.level, None),
    "change_previous": (Role.change, Basis.previous_period),
    "change_plan": (Role.change, Basis.plan),
    "change_other": (Role.change, Basis.other),
    "ratio_previous": (Role.ratio, Basis.previous_period),
    "ratio_plan": (Role.ratio, Basis.plan),
    "ratio_other": (Role.ratio, Basis.other),
}
_COMBOS = {category_combo(name, unit.value): (name, unit) for name in _ROLE_BASIS for unit in Unit}


def from_category_combo(code: str) -> tuple[Role, Basis | None, Unit] | None:
    found = _COMBOS.get(code.upper())
    if found is None:
        return None
    role, basis = _ROLE_BASIS[found[0]]
    return role, basis, found[1]
