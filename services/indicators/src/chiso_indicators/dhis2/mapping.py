"""Chiso series in DHIS2 terms, and back (periods: `Period.to_dhis2`, `Period.from_dhis2`).

dataElement = indicator code; orgUnit = area code (idScheme=code); categoryOptionCombo =
TRANSFORMATION_UNIT (`LEVEL_COUNT`, `CHANGE_PREVIOUS_PERCENT`), because DHIS2 gives one data
element one value type and a change may be stated in percent or in units; DHIS2's `default`
combo is the level in the indicator's own unit; attributeOptionCombo = ACTUAL or TARGET (a plan
target is a separate series, not a status; `default` is ACTUAL); the SDMX OBS_STATUS goes in
`comment` as `OBS_STATUS:E`.
"""

from __future__ import annotations

from chiso_shared.facts import Basis, Role, Unit

# DHIS2 creates its default category combo and option combo with these fixed uids, so a DHIS2
# instance already knows them.
DEFAULT_COMBO = "default"
DEFAULT_COMBO_UID = "HllvX50cXC0"
DEFAULT_CATEGORY_COMBO_UID = "bjDvmb4bfuf"
MEASURES = ("ACTUAL", "TARGET")


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
TRANSFORMATIONS = tuple(_ROLE_BASIS)
_COMBOS = {category_combo(name, unit.value): (name, unit) for name in _ROLE_BASIS for unit in Unit}


def combos() -> dict[str, tuple[str, Unit]]:
    """Every categoryOptionCombo code chiso uses, with its transformation and unit."""
    return dict(_COMBOS)


def from_category_combo(code: str) -> tuple[Role, Basis | None, Unit] | None:
    found = _COMBOS.get(code.upper())
    if found is None:
        return None
    role, basis = _ROLE_BASIS[found[0]]
    return role, basis, found[1]
