"""Role and basis: a level, a change ("tăng 5%") or a ratio ("bằng 105% kế hoạch"), and
what a change or ratio is measured against."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.lexicon import Lexicon, Rule
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.stages.numbers import this_line
from chiso_shared.facts import Basis, Role, Unit


def read_roles(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    out: list[Mention] = []
    for m in mentions:
        read = _read_role(doc, m)
        if read.cell is not None and _share_of_plan(doc, out, read):
            read = read.evolve(role=Role.ratio, basis=Basis.plan)
        if out and _listed_after(doc, out[-1], read):
            out[-1], read = _share_list(out[-1], read)
        out.append(read)
    return out


def _share_of_plan(doc: Doc, done: list[Mention], m: Mention) -> bool:
    """A bare "Tỷ lệ (%)" column after a plan's column and a column done or estimated in
    the same row ("KH 2024 | TH 6 tháng | Tỷ lệ (%)"): the share of the plan achieved."""
    lex = doc.lex
    if m.role is not Role.level or m.unit is not Unit.percent or m.cell is None:
        return False
    if not m.cell.header or not lex.pattern("table.bare_share_header").fullmatch(m.cell.header):
        return False
    row = [d for d in done[-8:] if d.sentence == m.sentence and d.cell is not None]
    plan = [d for d in row if d.cell and lex.pattern("table.target_header").search(d.cell.header)]
    if not plan:
        return False
    done_after = [
        d
        for d in row
        if d.start > plan[0].start
        and d.cell
        and not lex.pattern("table.target_header").search(d.cell.header)
        and not lex.pattern("table.bare_share_header").fullmatch(d.cell.header)
    ]
    return bool(done_after)


def _listed_after(doc: Doc, prev: Mention, m: Mention) -> bool:
    """ "tăng lần lượt 8 và 26 bậc": a bare change (its unit still to come) listed right
    before a level, only "và" or a comma between them, makes one list with it."""
    return (
        prev.role is Role.change
        and not prev.unit_written
        and m.role is Role.level
        and m.cell is None
        and doc.lex.pattern("role.list_joiner").fullmatch(doc.low, prev.unit_end, m.start)
        is not None
    )


def _share_list(prev: Mention, m: Mention) -> tuple[Mention, Mention]:
    """The list's items share the change and its basis, and the unit written after the
    last ("8 và 26 bậc" are places, "5 và 7%" percentages)."""
    if m.unit_written and m.scale_len == 0:
        prev = prev.evolve(unit=m.unit, unit_written=True)
    sign = -1.0 if prev.value < 0 else 1.0
    return prev, m.evolve(role=Role.change, basis=prev.basis, value=abs(m.value) * sign)


def _read_role(doc: Doc, m: Mention) -> Mention:
    lex, low = doc.lex, doc.low
    left, right = m.left, m.right
    after = right[m.scale_len :]
    rest = this_line(
        doc.text, m.item_end, low[m.item_end : m.item_end + lex.integer("windows.item")]
    )
    basis, basis_len = _basis_after(lex, rest)
    if basis is None and lex.pattern("role.multiple_unit").match(after):
        basis, basis_len = _basis_after_multiple(lex, rest)
    near = max(0, m.start - lex.integer("windows.gap"))
    wide = (
        _gap_window(doc, m, near) if m.cell is None and low.find("hơn", near, m.start) >= 0 else ""
    )
    role, basis, sign = _role(lex, left, after, m.unit, basis, wide)
    read = m.evolve(tail_end=m.item_end + basis_len, role=role, basis=basis, value=m.value * sign)
    if m.cell is not None and role is Role.level:
        bracketed = low[m.start - 1 : m.end + 1] == f"({m.num})"
        read = _column_role(lex, read, m.cell.header, bracketed=bracketed)
    return read


def _gap_window(doc: Doc, m: Mention, start: int) -> str:
    """The text before a number where a comparative may stand ahead of what it compares
    with (`windows.gap`), within its sentence; across a line break when the number opens a
    line that goes on from a line ending in a word ("thấp hơn tỉnh bạn⏎0,09 điểm"), from
    `start`."""
    low = doc.low
    index = doc.sentence_of(m.start)
    sentence = doc.sentence_starts[index]
    wrapped = (
        index > 0
        and not low[sentence : m.start].strip()
        and low[:sentence].rstrip(" \t").endswith("\n")
        and low[:sentence].rstrip()[-1:].isalpha()
    )
    if wrapped:
        sentence = doc.sentence_starts[index - 1]
    return low[max(start, sentence) : m.start]


def _basis_after(lex: Lexicon, rest: str) -> tuple[Basis | None, int]:
    for rule in lex.rules("basis.ordered"):
        m = rule.pattern.match(rest)
        if m and m.end() > 0:
            if lex.pattern("basis.target_value_follows").match(rest[m.end() :]):
                return None, 0
            return Basis(rule.text("basis")), m.end()
    return None, 0


def _basis_after_multiple(lex: Lexicon, rest: str) -> tuple[Basis | None, int]:
    """ "gấp 2 lần năm 2020": a year after a multiple is what it is compared with."""
    compared = lex.pattern("basis.after_multiple").match(rest)
    if compared:
        return Basis.previous_period, compared.end()
    other = lex.pattern("basis.after_multiple_other").match(rest)
    return (Basis.other, other.end()) if other else (None, 0)


@dataclass(frozen=True, slots=True)
class _Before:
    """The words before a number, as the role steps read them."""

    left: str  # the text right before the number
    core: str  # the same without the hedge words next to the number ("khoảng", "đạt")
    after: str  # the text after the number's scale word
    unit: Unit
    basis: Basis | None  # the basis written after the number, if any
    wide: str  # the wider text before it where a comparative is read ("" when none is near)


RoleFound = tuple[Role, Basis | None, float] | None


def _role(
    lex: Lexicon, left: str, after: str, unit: Unit, basis: Basis | None, wide: str = ""
) -> tuple[Role, Basis | None, float]:
    """The role, basis and sign the words give, by the first step of `role.order` that
    decides; a level when none does."""
    hedge = lex.pattern("role.hedge").search(left, max(0, len(left) - lex.integer("windows.cue")))
    before = _Before(left, left[: hedge.start()] if hedge else left, after, unit, basis, wide)
    for step in lex.words("role.order"):
        found = _ROLE_STEPS[step](lex, before)
        if found is not None:
            return found
    return Role.level, None, 1.0


def _level_after_change(lex: Lexicon, b: _Before) -> RoleFound:
    """ "tăng lên 500", "giảm xuống còn 5%": the new level, not a change."""
    found = lex.pattern("role.level_after_change").search(b.core)
    return (Role.level, None, 1.0) if found else None


def _multiple(lex: Lexicon, b: _Before) -> RoleFound:
    """ "gấp 2 lần", "1,5 lần so với năm 2020": a ratio."""
    if lex.pattern("role.multiple_unit").match(b.after) and (
        b.basis or lex.pattern("role.multiple").search(b.core)
    ):
        return Role.ratio, b.basis or Basis.previous_period, 1.0
    return None


def _sign(_: Lexicon, b: _Before) -> RoleFound:
    """ "+5%", "-2,0%": the candidate pattern lets a sign by only where it is one."""
    if b.left.endswith("+"):
        return Role.change, b.basis or Basis.previous_period, 1.0
    if b.left.endswith(("-", "−")):
        return Role.change, b.basis or Basis.previous_period, -1.0
    return None


def _change(lex: Lexicon, b: _Before) -> RoleFound:
    """A change verb, maybe with its basis between it and the number ("tăng so với cùng kỳ
    là 3%"): the first of `role.changes` found gives the sign and the default basis."""
    basis, core = (b.basis, b.core) if b.basis is not None else _basis_before(lex, b.core)
    verb = lex.pattern("role.change")
    if verb.search(b.left) is None and verb.search(core) is None:
        return None  # (most figures: no change verb; one search instead of one per verb)
    for rule in lex.rules("role.changes"):
        if rule.pattern.search(b.left) or rule.pattern.search(core):
            if basis is None and b.unit is not Unit.percent and "unnamed_amount" in rule.yields:
                return Role(rule.text("unnamed_amount")), None, 1.0
            return Role.change, basis or Basis(rule.text("basis")), rule.number("sign")
    return None


def _gap(lex: Lexicon, b: _Before) -> RoleFound:
    """ "cao hơn mức bình quân cả nước (45,1%) 13,2 điểm": a comparative written before
    what it compares with makes the number after both a change against that: basis other."""
    found = lex.pattern("role.gap").search(b.wide) if b.wide else None
    if found is None:
        return None
    rule = _change_rule(lex, found.group("verb") + " hơn")
    return None if rule is None else (Role.change, b.basis or Basis.other, rule.number("sign"))


def _restated_change(lex: Lexicon, b: _Before) -> RoleFound:
    """ "tăng 4,1 triệu thuê bao (4,25%)": the change before, restated as a percentage."""
    found = lex.pattern("role.restated_change").search(b.left) if b.unit is Unit.percent else None
    if found is None:
        return None
    rule = _change_rule(lex, found.group("verb"))
    if rule is None:
        return None
    return Role.change, b.basis or Basis(rule.text("basis")), rule.number("sign")


def _change_rule(lex: Lexicon, verb: str) -> Rule | None:
    """The change verb's rule (`role.changes`): its sign and its basis."""
    return next((rule for rule in lex.rules("role.changes") if rule.pattern.search(verb)), None)


def _compared_share(_: Lexicon, b: _Before) -> RoleFound:
    """ "95% so với kế hoạch": a percentage with a basis is a ratio."""
    return (Role.ratio, b.basis, 1.0) if b.basis is not None and b.unit is Unit.percent else None


# The role steps by the names `role.order` lists them in (data/lexicon.toml).
_ROLE_STEPS: Mapping[str, Callable[[Lexicon, _Before], RoleFound]] = MappingProxyType(
    {
        "level_after_change": _level_after_change,
        "multiple": _multiple,
        "sign": _sign,
        "change": _change,
        "gap": _gap,
        "restated_change": _restated_change,
        "compared_share": _compared_share,
    }
)


def _basis_before(lex: Lexicon, core: str) -> tuple[Basis | None, str]:
    """A basis written between the verb and the number ("tăng so với cùng kỳ là 3%"): the
    basis, and the text before it where the verb is."""
    change = lex.pattern("role.change")
    for rule in lex.rules("basis.before"):
        written = rule.pattern.search(core)
        verb = core[: written.start()].rstrip() if written else ""
        if written and change.search(verb):
            return Basis(rule.text("basis")), verb
    return None, core


_OVER = re.compile(r"/\s*(?=[^\W\d_])")  # "A/B" sets A against B; not "quý I/2024"


def _column_role(lex: Lexicon, m: Mention, header: str, *, bracketed: bool) -> Mention:
    """A cell under "Tăng/giảm" is a change (negative when written in brackets, "(270)");
    a percentage under "So với cùng kỳ (%)" or "TH/KH (%)" is a ratio, against the plan when
    the header names one, after its "/" if it sets one figure against another ("KH 2025/Ước
    2024" is against the estimate, "TH/KH" against the plan)."""
    over = [found.end() for found in _OVER.finditer(header)]
    against = header[over[-1] :] if over else header
    if m.cell is not None and m.cell.against:  # "4=3/1" under the header: column 1's
        against = m.cell.against
    plan = lex.pattern("table.plan_header").search(against)
    basis = Basis.plan if plan else Basis.previous_period
    if lex.pattern("table.change_header").search(header):
        value = -abs(m.value) if bracketed else m.value
        return m.evolve(role=Role.change, basis=basis, value=value)
    ratio = lex.pattern("table.ratio_header").search(header) or (m.cell and m.cell.against)
    if m.unit is Unit.percent and ratio:
        return m.evolve(role=Role.ratio, basis=basis)
    # "So với 2022" over places or counts: the difference, not a share
    if m.unit is not Unit.percent and lex.pattern("table.compared_header").search(header):
        return m.evolve(role=Role.change, basis=basis)
    return m
