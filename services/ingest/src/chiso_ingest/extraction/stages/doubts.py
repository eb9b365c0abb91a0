"""Doubts: why each figure's fact may be wrong, and a confidence made of them.

The stages before record how they decided (a period nothing dated, a metric's phrasing
scores, a unit read from words); this stage turns those into `DoubtCode`s and weighs them
with data/doubts.toml. It runs last and changes no other field.

- `period_from_publication`: nothing dated the figure and the report's own period, or its
  year, came from the publication date hint (`ReportPeriod.source` "completed", "so_far" or
  "published"; `[doubts.sources]` in the data).
- `period_from_report`: nothing dated the figure and the report does not name its own
  period in its title or opening (it was inferred from the years the text names: "votes",
  "years"). A report that names its period there dates its undated figures surely: they
  carry no doubt.
- `scope_defaulted`: the figure has the report's area, and the text settled none (no
  province named clearly, no national issuer) and no hint was given.
- `indicator_weak`: the metric's phrasing scored low or close to another metric's, or the
  metric came from the section heading or an earlier figure, not the figure's own words.
- `unit_inferred`: no word or table cell gave the unit: a bare number read as a count, a
  bare decimal read as a score or a share.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.mention import Mention
from chiso_shared.facts import DoubtCode, Unit


def read_doubts(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    period_doubt = _period_doubt(doc)
    scope_defaulted = doc.scope_defaulted
    out: list[Mention] = []
    for m in mentions:
        doubts = _doubts(doc, m, period_doubt, scope_defaulted)
        out.append(m.evolve(doubts=doubts, confidence=confidence(doc, doubts)))
    return out


def confidence(doc: Doc, doubts: Iterable[str]) -> float:
    """The product of (1 - weight) over the doubts, to two places."""
    kept = 1.0
    for code in doubts:
        kept *= 1.0 - doc.lex.number(f"doubts.weight.{code}")
    return round(min(max(kept, 0.0), 1.0), 2)


def _doubts(
    doc: Doc, m: Mention, period_doubt: DoubtCode | None, scope_defaulted: bool
) -> tuple[str, ...]:
    found: list[DoubtCode] = []
    if m.period_default and period_doubt is not None:
        found.append(period_doubt)
    if scope_defaulted and m.scope == doc.scope:
        found.append(DoubtCode.scope_defaulted)
    if m.indicator is not None and _indicator_weak(doc, m):
        found.append(DoubtCode.indicator_weak)
    if _unit_inferred(m):
        found.append(DoubtCode.unit_inferred)
    return tuple(code.value for code in found)


def _period_doubt(doc: Doc) -> DoubtCode | None:
    """The doubt an undated figure of `doc` carries, if any: by how the report's own
    period was found (`ReportPeriod.source`)."""
    if doc.period_source in doc.lex.words("doubts.sources.from_publication"):
        return DoubtCode.period_from_publication
    if doc.period_source in doc.lex.words("doubts.sources.from_report"):
        return DoubtCode.period_from_report
    return None


def _indicator_weak(doc: Doc, m: Mention) -> bool:
    if m.indicator_scores is None:
        return True  # from a section heading or an earlier figure
    best, other = m.indicator_scores
    if best < doc.lex.number("doubts.indicator.min_score"):
        return True
    return math.isfinite(other) and best - other < doc.lex.number("doubts.indicator.min_margin")


def _unit_inferred(m: Mention) -> bool:
    """No unit word or cell: a bare count with no item, or a bare decimal read as a score
    or share. A rank ("thứ 5") and a pair ("558/559") say what they are."""
    if m.unit_written or m.rank or m.of is not None or m.unit is Unit.rank:
        return False
    if m.unit is Unit.count:
        return m.item is None
    return not m.value.is_integer()
