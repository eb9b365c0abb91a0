"""Period arithmetic over the GUIDELINE's period strings."""

from __future__ import annotations

from chiso_shared.facts import Basis, Role, Status, period_end

__all__ = ["frequency", "measure", "period_end", "transformation"]

STATUS_CODES = {Status.actual: "A", Status.estimate: "E", Status.target: "F"}
# Which version is current: actual beats provisional beats estimate beats forecast.
STATUS_RANK = {"A": 4, "P": 3, "E": 2, "F": 1}


def frequency(period: str) -> str:
    """SDMX-like frequency: A, S, Q, M, D; X for spans (`2023-01/2023-11`, `2023/2024`)."""
    if "/" in period:
        return "X"
    if len(period) == 4:
        return "A"
    if period[5] in "SQ":
        return period[5]
    return "M" if len(period) == 7 else "D"


def transformation(role: Role, basis: Basis | None) -> str:
    if role is Role.level:
        return "level"
    suffix = {Basis.previous_period: "previous", Basis.plan: "plan"}.get(
        basis or Basis.other, "other"
    )
    return f"{role.value}_{suffix}"


def measure(status: Status) -> str:
    return "target" if status is Status.target else "actual"
