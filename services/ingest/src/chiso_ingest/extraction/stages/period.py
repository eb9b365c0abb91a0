"""Period: what time each figure refers to.

A change or ratio takes the period of its level. A level takes the period written for it,
else its plan section's, else its "trong đó" total's; a table column's header dates the
levels under it unless the cell names its own; the report's own period is the default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.periods import find_periods, resolve
from chiso_ingest.extraction.stages.links import is_flow, resolve_said
from chiso_ingest.extraction.stages.status import column_header

# a year in a table's column header ("Kế hoạch 2024") dates the column
_HEADER_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def read_period(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    out: list[Mention] = []
    for m in mentions:
        if m.parent is not None:
            level = out[m.parent]
            out.append(m._replace(period=level.period, period_default=level.period_default))
            continue
        period = _own_period(doc, out, m)
        default = period is None or _total_defaulted(out, m, period)
        out.append(m._replace(period=period or str(doc.period), period_default=default))
    return out


def _total_defaulted(done: list[Mention], m: Mention, period: str) -> bool:
    """A "trong đó" part dated only by its total, itself dated by nothing."""
    total = done[m.component] if m.component is not None else None
    return total is not None and total.period_default and total.period == period


def _own_period(doc: Doc, done: list[Mention], m: Mention) -> str | None:
    period = resolve_said(doc, m)
    future = doc.future_at(m.start)
    if period is None and future is not None:
        period = future.period
    if period is None and m.component is not None:
        period = done[m.component].period
    header = column_header(doc, m)
    if header is not None and m.said_period is None:
        period = _header_period(doc, header, flow=is_flow(doc, m)) or period
    return period


def _header_period(doc: Doc, header: str, *, flow: bool) -> str | None:
    for mention in find_periods(header, doc.lex, [(0, len(header))]):
        period = resolve(mention, doc.period.year, flow=flow)
        if period is not None:
            return period
    years = set(_HEADER_YEAR.findall(header))
    return years.pop() if len(years) == 1 else None
