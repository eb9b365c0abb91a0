"""The data-quality engine: checks over the numbers indicators holds (issue 18).

Pure: it takes the versions of some (series, period) values (`Obs`) and a rule book and
returns findings; the store decides what to load and where flags go. The observations are
indexed once (by series and period, by cell), so a check costs lookups, not scans: running
every rule is linear in the number of observations.

Finding windows: a finding compares a period with at most the period before it and the same
period one year earlier (or the year that holds it, for a plan).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Iterable

from chiso_indicators.quality.checks import KIND_CHECKS
from chiso_indicators.quality.model import Finding, Index, Obs
from chiso_indicators.quality.rules import RuleBook

__all__ = ["Finding", "Obs", "check", "related_indicators"]


def check(
    observations: Iterable[Obs], book: RuleBook, anchors: Collection[str] | None = None
) -> list[Finding]:
    """Every finding of every rule of `book` over `observations`, one per key, in a stable
    order (anchor cell, rule, parts); with `anchors`, only the findings anchored at one of
    those periods (the others' work is skipped: the store gives the earlier periods a
    finding compares, whose own findings it does not want)."""
    index = Index.build(observations)
    index.anchors = None if anchors is None else frozenset(anchors)
    found: dict[str, Finding] = {}
    for rule in book.rules.values():
        for finding in KIND_CHECKS[rule.kind](rule, index, book):
            found.setdefault(finding.key, finding)
    return sorted(
        found.values(),
        key=lambda f: (f.indicator, f.area, f.period, f.rule, f.parts),
    )


def related_indicators(book: RuleBook, indicators: Iterable[str]) -> set[str]:
    """Every indicator a check could bring together with these (the connected components of
    the relation graph, including the given ones): the store loads all of them."""
    graph: dict[str, set[str]] = {}
    for group in _relations(book):
        for code in group:
            graph.setdefault(code, set()).update(group)
    seen = set(indicators)
    queue = deque(seen)
    while queue:
        for neighbour in graph.get(queue.popleft(), ()):
            if neighbour not in seen:
                seen.add(neighbour)
                queue.append(neighbour)
    return seen


def _relations(book: RuleBook) -> list[set[str]]:
    """The groups of indicators that one check compares with each other."""
    groups: list[set[str]] = []
    for rule in book.rules.values():
        params = rule.params
        for relation in params.get("sums", ()):
            groups.append({relation["total"], *relation["components"]})
        for share in params.get("shares", ()):
            groups.append(set(share["indicators"]))
        # every density/count pair of a cell is compared with every other
        pairs = params.get("pairs", ())
        if pairs:
            groups.append({code for pair in pairs for code in (pair["density"], pair["count"])})
    return groups
