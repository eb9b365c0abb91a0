"""The parts of a series key and a version's rank derived from a fact's role and status.

(The period's parts, such as its frequency, come from `chiso_shared.periods.Period`.)
"""

from __future__ import annotations

from collections.abc import Sequence

from chiso_shared.facts import Basis, Role, Status

__all__ = ["RANK_RULES", "Rank", "deciding_rule", "measure", "rank", "transformation"]

STATUS_CODES = {Status.actual: "A", Status.estimate: "E", Status.target: "F"}
# Which version is current: actual beats provisional beats estimate beats forecast.
STATUS_RANK = {"A": 4, "P": 3, "E": 2, "F": 1}

# A version's place in the precedence of its (series, period), higher first: reviewed by a
# person, status, publication, value, fingerprint (the last settles full ties, so arrival order
# never does). The importer ranks stored and new versions by it; an `as_of` read ranks the
# versions as they stood then.
Rank = tuple[bool, int, str, float, str]
# What each place of a `Rank` stands for, as `chosen_by` names it; the fingerprint only settles
# versions of equal value, so it counts as the value's rule.
RANK_RULES = ("reviewed", "status", "publication", "value", "value")


def rank(reviewed: bool, status: str, published: str, value: float, fingerprint: str) -> Rank:
    return (reviewed, STATUS_RANK.get(status, 0), published, value, fingerprint)


def deciding_rule(ranked: Sequence[Rank]) -> str | None:
    """The rule (`chosen_by`) that put the first of the ranks, sorted best first, ahead of the
    second: `only` when there is no second, None when there is none at all."""
    if not ranked:
        return None
    if len(ranked) == 1:
        return "only"
    first, second = ranked[0], ranked[1]
    place = next((i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b), -1)
    return RANK_RULES[place]


def transformation(role: Role, basis: Basis | None) -> str:
    if role is Role.level:
        return "level"
    suffix = {Basis.previous_period: "previous", Basis.plan: "plan"}.get(
        basis or Basis.other, "other"
    )
    return f"{role.value}_{suffix}"


def measure(status: Status) -> str:
    return "target" if status is Status.target else "actual"
