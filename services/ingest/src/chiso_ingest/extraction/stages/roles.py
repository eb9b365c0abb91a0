"""Role and basis: a level, a change ("tăng 5%") or a ratio ("bằng 105% kế hoạch"), and
what a change or ratio is measured against."""

from __future__ import annotations

from collections.abc import Sequence

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.lexicon import Lexicon
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.stages.numbers import left_of, right_of, this_line
from chiso_shared.facts import Basis, Role, Unit

_BASIS_WINDOW = 90
# cue words that decide a number's role sit within this many characters before it
_CUE_REACH = 24


def read_roles(doc: Doc, mentions: Sequence[Mention]) -> list[Mention]:
    return [_read_role(doc, m) for m in mentions]


def _read_role(doc: Doc, m: Mention) -> Mention:
    lex, low = doc.lex, doc.low
    left, right = left_of(doc, m), right_of(doc, m)
    after = right[m.scale_len :]
    rest = this_line(doc.text, m.item_end, low[m.item_end : m.item_end + _BASIS_WINDOW])
    basis, basis_len = _basis_after(lex, rest)
    if basis is None and lex.pattern("role.multiple_unit").match(after):
        basis, basis_len = _basis_after_multiple(lex, rest)
    role, basis, sign = _role(lex, left, after, m.unit, basis)
    read = m._replace(tail_end=m.item_end + basis_len, role=role, basis=basis, value=m.value * sign)
    if m.cell is not None and role is Role.level:
        bracketed = low[m.start - 1 : m.end + 1] == f"({m.num})"
        read = _column_role(lex, read, m.cell.header, bracketed=bracketed)
    return read


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


def _role(
    lex: Lexicon, left: str, after: str, unit: Unit, basis: Basis | None
) -> tuple[Role, Basis | None, float]:
    hedge = lex.pattern("role.hedge").search(left, max(0, len(left) - _CUE_REACH))
    core = left[: hedge.start()] if hedge else left
    if lex.pattern("role.level_after_change").search(core):
        return Role.level, None, 1.0
    if lex.pattern("role.multiple_unit").match(after) and (
        basis or lex.pattern("role.multiple").search(core)
    ):
        return Role.ratio, basis or Basis.previous_period, 1.0
    if left.endswith("+"):
        return Role.change, basis or Basis.previous_period, 1.0
    if left.endswith(("-", "−")):  # a minus sign: the candidate pattern lets only a sign by
        return Role.change, basis or Basis.previous_period, -1.0
    if basis is None:
        basis, core = _basis_before(lex, core)
    up = lex.pattern("role.change_up").search(left) or lex.pattern("role.change_up").search(core)
    down = lex.pattern("role.change_down").search(left) or lex.pattern("role.change_down").search(
        core
    )
    if up or down:
        default = (
            Basis.plan if up and up.group().lstrip().startswith("vượt") else Basis.previous_period
        )
        return Role.change, basis or default, (-1.0 if down else 1.0)
    if basis is not None and unit is Unit.percent:
        return Role.ratio, basis, 1.0
    return Role.level, None, 1.0


def _basis_before(lex: Lexicon, core: str) -> tuple[Basis | None, str]:
    """A basis written between the verb and the number ("tăng so với cùng kỳ là 3%"): the
    basis, and the text before it where the verb is."""
    for rule in lex.rules("basis.before"):
        written = rule.pattern.search(core)
        verb = core[: written.start()].rstrip() if written else ""
        if written and (
            lex.pattern("role.change_up").search(verb)
            or lex.pattern("role.change_down").search(verb)
        ):
            return Basis(rule.text("basis")), verb
    return None, core


def _column_role(lex: Lexicon, m: Mention, header: str, *, bracketed: bool) -> Mention:
    """A cell under "Tăng/giảm" is a change (negative when written in brackets, "(270)");
    a percentage under "So với cùng kỳ (%)" or "TH/KH (%)" is a ratio, against the plan when
    the header names one."""
    basis = Basis.plan if lex.pattern("table.plan_header").search(header) else Basis.previous_period
    if lex.pattern("table.change_header").search(header):
        value = -abs(m.value) if bracketed else m.value
        return m._replace(role=Role.change, basis=basis, value=value)
    if m.unit is Unit.percent and lex.pattern("table.ratio_header").search(header):
        return m._replace(role=Role.ratio, basis=basis)
    return m
