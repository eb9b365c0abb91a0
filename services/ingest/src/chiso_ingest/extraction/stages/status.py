"""Status: actual, estimate or target.

A change or ratio takes the status of the level it describes. A level's own words decide
first (a hedge right before it, a target cue not followed by a result, an estimate cue),
then a horizon ahead of the report ("đến năm 2025"), a plan section, a target just before
it in the sentence, the total of a "trong đó" list; a table column's header has the last
word on the levels under it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from re import Pattern
from types import MappingProxyType

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.lexicon import Lexicon
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.stages.links import compared_basis, resolve_said
from chiso_shared.facts import Role, Status
from chiso_shared.periods import Period


@dataclass(frozen=True, slots=True)
class _Cue:
    """One of `status.cues`, read once per run: its pattern, where it must stand (None:
    right before the number), what voids it, the status it gives."""

    pattern: Pattern[str]
    window: int | None
    unless_after: Pattern[str] | None
    status: Status


def _cues(lex: Lexicon) -> tuple[_Cue, ...]:
    return tuple(
        _Cue(
            pattern=cue.pattern,
            window=None
            if cue.text("near") == "number"
            else lex.integer(f"windows.{cue.text('near')}"),
            unless_after=(
                lex.pattern(cue.text("unless_after")) if "unless_after" in cue.yields else None
            ),
            status=Status(cue.text("status")),
        )
        for cue in lex.rules("status.cues")
    )


def read_status(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    cues = _cues(doc.lex)
    out: list[Mention] = []
    for k, m in enumerate(mentions):
        parent = _effective_parent(doc, out, m, k)
        if parent is not None:
            status = Status.estimate if _hedged(doc, m) else out[parent].status
            out.append(m.evolve(parent=parent, status=status))
            continue
        stated = _own_status(doc, cues, out, m, k)
        out.append(
            m.evolve(parent=None, stated_status=stated, status=_column_status(doc, m) or stated)
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


def _hedged(doc: Doc, m: Mention) -> bool:
    """A hedge right before a change or ratio ("nhiều hơn khoảng 3.000", "gấp khoảng 1,5
    lần"): an estimate whatever its level's status."""
    left = doc.low[max(m.seg_start, m.start - doc.lex.integer("windows.left")) : m.start]
    return doc.lex.pattern("status.estimate_adjacent").search(left) is not None


def _own_status(
    doc: Doc, cues: tuple[_Cue, ...], done: list[Mention], m: Mention, k: int
) -> Status:
    """The first status that its words, then each of `status.fallbacks`, give."""
    status = _worded_status(doc, cues, m)
    for name in doc.lex.words("status.fallbacks"):
        if status is not None:
            return status
        status = _FALLBACKS[name](doc, done, m, k)
    return status or Status.actual


def _worded_status(doc: Doc, cues: tuple[_Cue, ...], m: Mention) -> Status | None:
    """The status of the first of `status.cues` found where it must be."""
    seg = doc.low[m.seg_start : m.start]
    left = doc.low[max(m.seg_start, m.start - doc.lex.integer("windows.left")) : m.start]
    for cue in cues:
        if _said(cue, left if cue.window is None else seg[-cue.window :]):
            return cue.status
    return None


def _said(cue: _Cue, window: str) -> bool:
    if cue.unless_after is None:
        return cue.pattern.search(window) is not None
    last = None
    for last in cue.pattern.finditer(window):  # noqa: B007  # the last match is wanted
        pass
    return last is not None and cue.unless_after.search(window, last.end()) is None


def _ahead(doc: Doc, m: Mention) -> bool:
    """The period written for the figure is in a later year than the report's."""
    stated = resolve_said(doc, m)
    return stated is not None and Period.parse(stated).year > doc.period.year


def _horizon(doc: Doc, _: list[Mention], m: Mention, __: int) -> Status | None:
    """ "đến năm 2025 đạt 80%" in a report on 2023, "năm tới ... 100%": a target."""
    said = m.said_period
    ahead = said is not None and (
        (said.kind == "horizon" and _ahead(doc, m)) or said.kind == "next_year"
    )
    return Status.target if ahead else None


def _plan_section(doc: Doc, _: list[Mention], m: Mention, __: int) -> Status | None:
    return Status.target if doc.future_at(m.start) is not None else None


def _after_target(doc: Doc, done: list[Mention], m: Mention, k: int) -> Status | None:
    """A later period's figure listed after a target in the same sentence is a target too
    ("phấn đấu 80% ..., từ 60 đến 70% ...")."""
    prev = done[k - 1] if k else None
    if prev is None or prev.sentence != m.sentence or prev.status is not Status.target:
        return None
    return Status.target if _ahead(doc, m) else None


def _compared_plan(doc: Doc, done: list[Mention], m: Mention, k: int) -> Status | None:
    """A plan in brackets after the comparison with it ("đạt 22,9% so với kế hoạch năm
    (302.400 tỷ đồng)") is a target."""
    basis = compared_basis(doc, done[:k], m)
    plan = basis is not None and doc.lex.pattern("period.plan_basis").search(basis)
    return Status.target if plan else None


def _sentence_hedge(doc: Doc, _: list[Mention], m: Mention, __: int) -> Status | None:
    """ "Theo số liệu, ước tính đến hết tháng 4, tỷ lệ ... đạt 76,68%; ...": a hedge that
    opens the sentence, as its own comma-closed part, covers the sentence's figures."""
    start = doc.sentence_starts[m.sentence]
    end = min(m.start, start + doc.lex.integer("windows.sentence_hedge"))
    hedge = doc.lex.pattern("status.sentence_hedge").search(doc.low[start:end])
    return Status.estimate if hedge is not None else None


def _total(doc: Doc, done: list[Mention], m: Mention, __: int) -> Status | None:
    """A part listed after "trong đó" shares the status of its total, unless bounded itself
    ("trong đó trên 1,1 triệu"): a lower bound is no estimate."""
    if m.component is None:
        return None
    left = doc.low[max(m.seg_start, m.start - doc.lex.integer("windows.left")) : m.start]
    if doc.lex.pattern("status.own_bound").search(left):
        return None
    return done[m.component].status


def _restated(doc: Doc, done: list[Mention], m: Mention, __: int) -> Status | None:
    """ "ước đạt 3.100 tỷ đồng, tương đương 131 triệu USD", "..., chiếm 34%": the figure
    restates or shares the hedged (or planned) level before it in the sentence."""
    if m.previous_level is None or done[m.previous_level].status is Status.actual:
        return None
    left = doc.low[max(m.seg_start, m.start - doc.lex.integer("windows.left")) : m.start]
    restates = doc.lex.pattern("status.restated").search(left) is not None
    return done[m.previous_level].status if restates else None


def _sentence_target(doc: Doc, _: list[Mention], m: Mention, __: int) -> Status | None:
    """ "phấn đấu quý IV hoàn thành 100% ..., trong đó doanh thu cả năm đạt 830 tỷ đồng":
    an aim earlier in the sentence covers its later clauses, unless a result follows it."""
    ends = _aim_ends(doc.low, doc.lex.pattern("status.sentence_target"))
    i = bisect_right(ends, m.start) - 1
    if i < 0 or ends[i] < doc.near_start(m.start) or ";" in doc.low[ends[i] : m.start]:
        return None
    achieved = doc.lex.pattern("status.sentence_result").search(doc.low, ends[i], m.start)
    return Status.target if achieved is None else None


@lru_cache(maxsize=4)  # one text's figures are read in a row: its aims, found once
def _aim_ends(low: str, aim: Pattern[str]) -> tuple[int, ...]:
    return tuple(m.end() for m in aim.finditer(low))


# The structural fallbacks by the names `status.fallbacks` lists them in (data/lexicon.toml).
_FALLBACKS: Mapping[str, Callable[[Doc, list[Mention], Mention, int], Status | None]] = (
    MappingProxyType(
        {
            "horizon": _horizon,
            "plan_section": _plan_section,
            "after_target": _after_target,
            "total": _total,
            "compared_plan": _compared_plan,
            "sentence_hedge": _sentence_hedge,
            "restated": _restated,
            "sentence_target": _sentence_target,
        }
    )
)


def _column_status(doc: Doc, m: Mention) -> Status | None:
    """A level under "Kế hoạch 2024" is a target, under "Ước thực hiện 6 tháng" an estimate,
    under "Thực hiện" actual (`table.column_status`); a comparing column says nothing."""
    header = column_header(doc, m)
    if header is None:
        return None
    for rule in doc.lex.rules("table.column_status"):
        if rule.pattern.search(header):
            return Status(rule.text("status"))
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
