"""Status: actual, estimate or target.

A change or ratio takes the status of the level it describes. A level's own words decide
first (a hedge right before it, a target cue not followed by a result, an estimate cue),
then a horizon ahead of the report ("đến năm 2025"), a plan section, a target just before
it in the sentence, the total of a "trong đó" list; a table column's header has the last
word on the levels under it.
"""

from __future__ import annotations

from collections.abc import Sequence

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.mention import Mention
from chiso_shared.facts import Role, Status
from chiso_shared.periods import Period

_LEFT_WINDOW = 36
_EST_WINDOW = 40
_TARGET_WINDOW = 160


def read_status(doc: Doc, mentions: Sequence[Mention]) -> list[Mention]:
    out: list[Mention] = []
    for k, m in enumerate(mentions):
        parent = _effective_parent(doc, out, m, k)
        if parent is not None:
            out.append(m._replace(parent=parent, status=out[parent].status))
            continue
        stated = _own_status(doc, out, m, k)
        out.append(
            m._replace(parent=None, stated_status=stated, status=_column_status(doc, m) or stated)
        )
    return out


def _effective_parent(doc: Doc, done: list[Mention], m: Mention, k: int) -> int | None:
    """The level a change describes; in a table row "TH 2023 | KH 2024 | So với cùng kỳ (%)"
    the comparison is of the latest result, not of the plan beside it."""
    if m.parent is None or done[m.parent].status is not Status.target:
        return m.parent
    if m.cell is None or doc.lex.pattern("table.plan_header").search(m.cell.header):
        return m.parent
    for j in range(k - 1, -1, -1):
        c = done[j]
        if c.sentence != m.sentence:
            break
        if c.role is Role.level and c.status is not Status.target:
            return j
    return m.parent


def _own_status(doc: Doc, done: list[Mention], m: Mention, k: int) -> Status:
    seg = doc.low[m.seg_start : m.start]
    left = doc.low[max(m.seg_start, m.start - _LEFT_WINDOW) : m.start]
    status = _worded_status(doc, seg, left)
    ahead = m.stated_period is not None and Period.parse(m.stated_period).year > doc.period.year
    said = m.said_period
    if status is None and said is not None and said.kind == "horizon" and ahead:
        status = Status.target
    if status is None and doc.future_at(m.start) is not None:
        status = Status.target
    if status is None and ahead and k and _follows_a_target(done[k - 1], m):
        status = Status.target
    if status is None and m.component is not None:
        status = done[m.component].status
    return status or Status.actual


def _worded_status(doc: Doc, seg: str, left: str) -> Status | None:
    lex = doc.lex
    if lex.pattern("status.estimate_adjacent").search(left):
        return Status.estimate
    window = seg[-_TARGET_WINDOW:]
    targets = list(lex.pattern("status.target").finditer(window))
    if targets and not lex.pattern("status.achieved").search(window, targets[-1].end()):
        return Status.target
    if lex.pattern("status.estimate").search(seg[-_EST_WINDOW:]):
        return Status.estimate
    return None


def _follows_a_target(prev: Mention, m: Mention) -> bool:
    """A later period's figure listed after a target in the same sentence is a target too
    ("phấn đấu 80% ..., từ 60 đến 70% ...")."""
    return prev.sentence == m.sentence and prev.status is Status.target


def _column_status(doc: Doc, m: Mention) -> Status | None:
    """A level under "Kế hoạch 2024" is a target; under "Ước thực hiện 6 tháng" an estimate;
    under "Thực hiện" actual. A comparing column says nothing of status."""
    header = column_header(doc, m)
    if header is None:
        return None
    lex = doc.lex
    if lex.pattern("table.estimate_header").search(header):
        return Status.estimate
    if lex.pattern("table.target_header").search(header):
        return Status.target
    if lex.pattern("table.actual_header").search(header):
        return Status.actual
    return None


def column_header(doc: Doc, m: Mention) -> str | None:
    """The header of the column a level stands in, unless the column compares."""
    if m.cell is None or not m.cell.header or m.role is not Role.level:
        return None
    header = m.cell.header
    lex = doc.lex
    if lex.pattern("table.change_header").search(header) or lex.pattern(
        "table.ratio_header"
    ).search(header):
        return None
    return header
