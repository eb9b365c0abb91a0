"""The parts of a series key and a version's rank derived from a fact's role and status.

(The period's parts, such as its frequency, come from `chiso_shared.periods.Period`.)
"""

from __future__ import annotations

from chiso_shared.facts import Basis, Role, Status

__all__ = ["measure", "transformation"]

STATUS_CODES = {Status.actual: "A", Status.estimate: "E", Status.target: "F"}
# Which version is current: actual beats provisional beats estimate beats forecast.
STATUS_RANK = {"A": 4, "P": 3, "E": 2, "F": 1}


def transformation(role: Role, basis: Basis | None) -> str:
    if role is Role.level:
        return "level"
    suffix = {Basis.previous_period: "previous", Basis.plan: "plan"}.get(
        basis or Basis.other, "other"
    )
    return f"{role.value}_{suffix}"


def measure(status: Status) -> str:
    return "target" if status is Status.target else "actual"
