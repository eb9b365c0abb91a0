"""Chiso series in DHIS2 terms, and back (periods: `Period.to_dhis2`, `Period.from_dhis2`).

dataElement = indicator code; orgUnit = area code (idScheme=code); categoryOptionCombo =
TRANSFORMATION_UNIT (`LEVEL_COUNT`, `CHANGE_PREVIOUS_PERCENT`), because DHIS2 gives one data
element one value type and a change may be stated in percent or in units; attributeOptionCombo
= ACTUAL or TARGET (a plan target is a separate series, not a status); the SDMX OBS_STATUS goes
in `comment` as `OBS_STATUS:E`.
"""

from __future__ import annotations

from chiso_shared.facts import Basis, Role, Unit


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
