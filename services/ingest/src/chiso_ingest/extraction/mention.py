"""A mention: one written number and what the stages have learnt of it so far.

Stages never change a mention; they return new ones (`evolve`). A `NamedTuple` keeps
that cheap: a document has hundreds of numbers and a dozen stages touch each.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple, TypedDict, Unpack

from chiso_ingest.extraction.periods import PeriodMention
from chiso_ingest.extraction.tables import Cell
from chiso_shared.facts import Basis, Role, Status, Unit


class Changes(TypedDict, total=False):
    """The fields `Mention.evolve` may change: every field of `Mention`, each optional."""

    start: int
    end: int
    num: str
    den: str | None
    hi: str | None
    left: str
    right: str
    rank: bool
    cell: Cell | None
    value: float
    unit: Unit
    of: float | None
    max: float | None
    item: str | None
    scale_len: int
    unit_written: bool
    unit_end: int
    item_end: int
    tail_end: int
    sentence: int
    role: Role
    basis: Basis | None
    near: int
    clause: int
    seg_start: int
    right_end: int
    next_start: int
    depth: int
    said_period: PeriodMention | None
    parent: int | None
    component: int | None
    previous_level: int | None
    stated_status: Status | None
    status: Status
    period: str | None
    indicator: str | None
    scope: str | None
    label: str | None
    period_default: bool
    indicator_scores: tuple[float, float] | None
    doubts: tuple[str, ...]
    confidence: float


class Mention(NamedTuple):
    # found: the number as written ("558/559", "3-4")
    start: int
    end: int
    num: str
    den: str | None = None
    hi: str | None = None
    # identified: the lower-cased text right before and after it (within its sentence and
    # line), a rank ("thứ 5"), the table cell it stands in
    left: str = ""
    right: str = ""
    rank: bool = False
    cell: Cell | None = None
    # read: value, unit and what is counted
    value: float = 0.0
    unit: Unit = Unit.count
    of: float | None = None
    max: float | None = None
    item: str | None = None
    scale_len: int = 0  # the scale word's length after the number ("tỷ")
    unit_written: bool = False  # its unit read from words after it or its table cell
    unit_end: int = 0
    item_end: int = 0
    tail_end: int = 0  # after its basis ("so với cùng kỳ"), if one follows
    sentence: int = 0
    # role and basis
    role: Role = Role.level
    basis: Basis | None = None
    # linked: its segment of text and its place among the others
    near: int = 0  # where its sentence starts, looking back at most `windows.sentence`
    clause: int = 0  # where its clause starts (a semicolon or `near`)
    seg_start: int = 0
    right_end: int = 0
    next_start: int = 0
    depth: int = 0  # brackets open at the number
    said_period: PeriodMention | None = None  # a period written for it
    parent: int | None = None  # the level a change or ratio describes (an index)
    component: int | None = None  # the total a "trong đó" part belongs to (an index)
    previous_level: int | None = None  # the sentence's last level before it (an index)
    stated_status: Status | None = None  # its status before a table column's header
    # context
    status: Status = Status.actual
    period: str | None = None
    indicator: str | None = None
    scope: str | None = None
    label: str | None = None
    # how it was decided, for its doubts
    period_default: bool = False  # its period is the report's own: nothing dated it
    # the score of its metric's phrasing and of the best other metric's (-inf when none);
    # None when no phrasing of its own windows named it (a topic, an earlier figure)
    indicator_scores: tuple[float, float] | None = None
    doubts: tuple[str, ...] = ()
    confidence: float = 1.0

    def evolve(self, **changes: Unpack[Changes]) -> Mention:
        """This mention with `changes`: what `_replace` does, in a third of its time (the
        stages make about ten new mentions per number; `_replace` walks all 42 fields
        through a dict for each)."""
        values: list[object] = list(self)
        for name, value in changes.items():
            values[_INDEX[name]] = value
        return tuple.__new__(Mention, values)


# where each field stands in a mention
_INDEX = MappingProxyType({name: i for i, name in enumerate(Mention._fields)})
