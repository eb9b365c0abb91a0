"""Scope: the area a figure measures, the report's own unless its text says otherwise.

A change or ratio takes its level's scope. A named commune or district before a level, or
"tại Trung tâm ..." after it, makes it a sub-area's figure ("sub"); a clause whose subject
is the country, or a level given as the national average, makes it national ("VN"). A
province named in the figure's clause before it makes it that province's; in an article
about several provinces, a paragraph keeps the province it named last ("địa phương này"),
and "A và B lần lượt ..." gives each list of figures to the provinces in order. Otherwise
the report's own scope, which is None (unknown) for a provincial text that names no
province and came with no hint.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.scope import area_code, place_of_issue, province_names
from chiso_ingest.extraction.stages.links import clause_end, compared_basis
from chiso_ingest.extraction.stages.numbers import ranking_lists
from chiso_shared.facts import Basis, Role, Unit

Named = tuple[int, int, str]  # a province's name in the text: start, end, code


@dataclass(frozen=True, slots=True)
class _Places:
    names: tuple[Named, ...]
    starts: tuple[int, ...]
    every: tuple[Named, ...]  # every name, those only compared with too
    every_end: tuple[int, ...]
    several: bool  # an article about several provinces: a paragraph keeps its last one
    respective: dict[int, str]  # mention index -> its province in a "lần lượt" list


def read_scope(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    given = list(mentions)
    places = _places(doc, given)
    out: list[Mention] = []
    for i, m in enumerate(given):
        scope: str | None
        if m.parent is not None and _national_own_sentence(doc, out, m):
            scope = "VN"
        elif m.parent is not None and not _gap_to_national(doc, out, m):
            scope = out[m.parent].scope
        elif out and doc.low.find("(", out[-1].end, m.start) >= 0 and _compared_period(doc, out, m):
            scope = out[-1].scope
        else:
            scope = places.respective.get(i) or _own_scope(doc, m, places)
        out.append(m.evolve(scope=scope))
    return _listed_places(doc, out)


def _listed_places(doc: Doc, done: list[Mention]) -> list[Mention]:
    """A ranking written as a list names its place after the rank ("01. Quận Lê Chân .....
    0,6802 điểm"): the rank is of the place its line's score is of."""
    if not any(m.rank and m.unit is Unit.rank for m in done):
        return done
    listed = ranking_lists(doc.low, doc.lex)
    out = list(done)
    for k, m in enumerate(out[:-1]):
        line_end = doc.low.find("\n", m.start)
        if m.start in listed and out[k + 1].start < (len(doc.low) if line_end < 0 else line_end):
            out[k] = m.evolve(scope=out[k + 1].scope)
    return out


def _compared_period(doc: Doc, done: list[Mention], m: Mention) -> bool:
    """ "tăng 10,6% so với năm 2021 (0,4296 điểm)": the figure of the period compared with,
    in brackets, is of the same area as the figure compared (not where the brackets hold
    another area's figure: "cao hơn mức bình quân cả nước (45,1%)")."""
    basis = compared_basis(doc, done, m)
    lex = doc.lex
    return (
        basis is not None
        and lex.pattern("period.may_name").search(basis) is not None
        and lex.pattern("scope.national").search(basis) is None
    )


def _gap_to_national(doc: Doc, done: list[Mention], m: Mention) -> bool:
    """A provincial report's gap to the national figure before it ("trung bình của cả nước
    là 0,5114 điểm, điểm của tỉnh cao hơn 0,1698 điểm"): the province's, not the country's."""
    assert m.parent is not None
    return (
        m.basis is Basis.other
        and done[m.parent].scope == "VN"
        and doc.scope not in (None, "VN", "sub")
    )


def _national_own_sentence(doc: Doc, done: list[Mention], m: Mention) -> bool:
    """A change in a sentence of its own that names the country ("Cùng kỳ, doanh thu viễn
    thông cả nước chỉ tăng 2,4%") after a province's figure: the country's change."""
    assert m.parent is not None
    start = doc.sentence_starts[doc.sentence_of(m.start)]
    if done[m.parent].start >= start or "c" not in doc.low[start : m.start]:
        return False
    return doc.lex.pattern("scope.national").search(doc.low, start, m.start) is not None


def _places(doc: Doc, mentions: Sequence[Mention]) -> _Places:
    # (a dateline, "Hà Nội, ngày 15/3/2024", names where the text was signed: no subject)
    named = province_names(doc.text, doc.code_list)
    names = tuple(n for n in named if not place_of_issue(doc.text, n[1]))
    subjects = _subjects(doc, names)
    return _Places(
        names=subjects,
        starts=tuple(n[0] for n in subjects),
        every=names,
        every_end=tuple(n[1] for n in names),
        several=_several(doc, names),
        respective=_respective(doc, mentions, names),
    )


def _subjects(doc: Doc, names: tuple[Named, ...]) -> tuple[Named, ...]:
    """The names a figure may belong to: not a place only compared with ("cao hơn Lạng Sơn
    22,9 điểm", "so với Hà Nội")."""
    compared = doc.lex.pattern("scope.compared_before")
    reach = doc.lex.integer("scope.compared_reach")
    return tuple(n for n in names if not compared.search(doc.low, max(0, n[0] - reach), n[0]))


def _several(doc: Doc, names: Sequence[Named]) -> bool:
    """Two provinces or more are each named often, the second nearly as often as the
    first: an article comparing them, not a report that mentions a neighbour."""
    if doc.scope in (None, "VN", "sub"):
        return False
    counts = Counter(code for _, _, code in names).most_common(2)
    if len(counts) < 2:
        return False
    (_, first), (_, second) = counts
    least = doc.lex.integer("scope.several_min_names")
    return second >= least and 100 * second >= doc.lex.integer("scope.several_share") * first


def _own_scope(doc: Doc, m: Mention, places: _Places) -> str | None:
    if _is_sub(doc, m, places):
        return "sub"
    low, start = doc.low, m.start
    if low.rfind("(", max(0, start - 24), start) >= 0:  # (most figures: no bracket before)
        bracketed = _bracket_named(doc, m, places)
        if bracketed is not None:
            return bracketed
    clause = m.clause
    part = max(clause, low.rfind(",", clause, start) + 1)
    if _national_subject(doc, part, m.start):
        return _last_named(places, part, m.start) or "VN"
    if _national_figure(doc, m, places, part):
        return "VN"
    if m.role is Role.level and doc.lex.pattern("scope.national_left").search(
        doc.low, clause, m.start
    ):
        return "VN"
    named = _last_named(places, clause, m.start) or _row_named(doc, m, places)
    if named is None:
        para = _paragraph_start(doc, m.start)
        lead = min(m.start, para + doc.lex.integer("scope.paragraph_subject"))
        named = _last_named(places, para, lead)  # "Trong khi đó, Bình Định ghi nhận ..."
        if named is None and places.several:
            named = _last_named(places, para, m.start)
    return named or doc.scope


def _national_figure(doc: Doc, m: Mention, places: _Places, part: int) -> bool:
    """A national body's figure, a figure whose own part of its clause names the country,
    or a count over the whole country."""
    low, start = doc.low, m.start
    head = doc.text[part : part + 16].lstrip(' \t\n-–•*+("“:')
    if head.startswith(_NATIONAL_BODY_HEADS) and _body_figure(
        doc, m, places, "scope.national_body", part, anchored=True
    ):
        return True
    # (cheap tests first: most figures' clauses do not name the country; the words of
    # `scope.national`: "cả nước", "toàn quốc", "63 tỉnh, thành phố", "các bộ, ngành, ...")
    country = (
        low.find("nước", part, start) >= 0
        or low.find("quốc", part, start) >= 0
        or low.find("tỉnh,", part, start) >= 0
        or low.find("ngành,", part, start) >= 0
    )
    if country and _national_own_clause(doc, m, places, part):
        return True
    return (
        m.unit not in _PLACING_UNITS
        and low.find("trên", m.unit_end, m.unit_end + _NATIONAL_RIGHT_REACH) >= 0
        and _national_right(doc, m)
    )


def _national_own_clause(doc: Doc, m: Mention, places: _Places, part: int) -> bool:
    """The figure's own part of its clause names the country before it, and no province:
    "Cùng kỳ, doanh thu viễn thông cả nước chỉ tăng 2,4%" in a provincial report."""
    if doc.lex.pattern("scope.national").search(doc.low, part, m.start) is None:
        return False
    i = bisect_left(places.starts, part)
    named = i < len(places.starts) and places.starts[i] < m.start
    province = doc.lex.pattern("scope.province_words")
    return not named and province.search(doc.low, part, m.start) is None


# units of figures that place a province in the country rather than measure the country
_PLACING_UNITS = (Unit.rank, Unit.percent)
# the first letters of `scope.national_body`: a cheap test before it
_NATIONAL_BODY_HEADS = ("Bộ", "Ngân", "Văn", "Thanh", "Ủy", "Kiểm", "Bảo")


# how far after a figure's unit the "trên" of `scope.national_right` may stand (its reach)
_NATIONAL_RIGHT_REACH = 48


def _national_right(doc: Doc, m: Mention) -> bool:
    """ "hơn 12.000 doanh nghiệp trên cả nước": a count or amount of the whole country (not a
    rank or a share, which place the province in it)."""
    after = doc.low[m.unit_end : m.unit_end + doc.lex.integer("windows.item")]
    return doc.lex.pattern("scope.national_right").match(after) is not None


def _bracket_named(doc: Doc, m: Mention, places: _Places) -> str | None:
    """ "đứng sau Hà Nội (hạng 01)": a figure in brackets right after a province's name is
    that province's, even where the name is only compared with."""
    i = bisect_left(places.every_end, m.start) - 1
    if i < 0 or m.start - places.every_end[i] > 24:
        return None
    _, end, code = places.every[i]
    found = doc.lex.pattern("scope.named_bracket").match(doc.text[end : m.start])
    return code if found else None


def _body_figure(
    doc: Doc, m: Mention, places: _Places, pattern: str, start: int, *, anchored: bool
) -> bool:
    """A body (`pattern`, on the text as written) names the figure's clause from `start`:
    at its start when `anchored`, else the last one before the figure; not where a province
    or the words of `scope.body_yields` come between the body and the figure, or follow the
    figure in its clause (`scope.body_after_yields`)."""
    lex = doc.lex
    body = lex.pattern(pattern)
    if anchored:
        found = body.match(doc.text, start, m.start)
    else:
        found = None
        for found in body.finditer(doc.text, start, m.start):  # noqa: B007
            pass
    if found is None:
        return False
    yields = lex.pattern("scope.body_yields")
    end = clause_end(doc, m)
    i = bisect_left(places.starts, found.end())
    named = i < len(places.starts) and places.starts[i] < end
    return not (
        named
        or yields.search(doc.low, found.end(), m.start)
        or lex.pattern("scope.body_after_yields").search(doc.low, m.end, end)
    )


def _row_named(doc: Doc, m: Mention, places: _Places) -> str | None:
    """A short line that names one province ("Hạng 2 – Hà Nội – 0,7385 điểm"): a row of a
    list, whose figures are all that province's, before its name or after it."""
    start = doc.low.rfind("\n", 0, m.start) + 1
    end = doc.low.find("\n", m.start)
    end = len(doc.low) if end < 0 else end
    i, j = bisect_left(places.starts, start), bisect_left(places.starts, end)
    codes = {code for _, _, code in places.names[i:j]}
    if (
        len(codes) != 1  # (most lines name no province: decided before the rest)
        or end - start > doc.lex.integer("scope.row_max")
        or doc.low.find(";", start, end) >= 0
        or doc.sentence_of(start) != doc.sentence_of(max(start, end - 1))
        or not doc.lex.pattern("scope.row_separator").search(doc.low, start, end)
    ):
        return None
    return codes.pop()


def _paragraph_start(doc: Doc, pos: int) -> int:
    """Where the line holding `pos` starts, looking back at most `scope.paragraph_window`."""
    back = max(0, pos - doc.lex.integer("scope.paragraph_window"))
    return max(back, doc.text.rfind("\n", back, pos) + 1)


def _last_named(places: _Places, start: int, end: int) -> str | None:
    """The province named last in text[start:end], if any."""
    i = bisect_left(places.starts, end) - 1
    return places.names[i][2] if i >= 0 and places.names[i][0] >= start else None


def _national_subject(doc: Doc, start: int, end: int) -> bool:
    """The country is what the figure's clause (or its part after a comma) is about."""
    return doc.lex.pattern("scope.national_subject").match(doc.low[start:end]) is not None


def _respective(doc: Doc, mentions: Sequence[Mention], names: Sequence[Named]) -> dict[int, str]:
    """For each sentence naming two provinces or more and saying "lần lượt": its figures of
    one kind, as many as the provinces listed, each given the province of its place."""
    out: dict[int, str] = {}
    for start, end in _listing_sentences(doc, names):
        codes = _listed(doc, [n for n in names if start <= n[0] < end])
        if len(codes) < 2:
            continue
        groups: dict[tuple[object, ...], list[int]] = {}
        for i, m in enumerate(mentions):
            if start <= m.start < end and m.parent is None:
                groups.setdefault((m.unit, m.rank, m.role), []).append(i)
        for members in groups.values():
            if len(members) == len(codes):
                out.update(zip(members, codes, strict=True))
    return out


def _listing_sentences(doc: Doc, names: Sequence[Named]) -> list[tuple[int, int]]:
    """The sentences that say "lần lượt" (looked for only where a province is named)."""
    said = doc.lex.pattern("scope.respectively")
    out: list[tuple[int, int]] = []
    for index in sorted({doc.sentence_of(start) for start, _, _ in names}):
        start, end = doc.sentence_bounds(index)
        found = said.search(doc.low, start, end)
        if found:
            out.append(_sentence_around(doc, found.start()))
    return list(dict.fromkeys(out))


def _sentence_around(doc: Doc, pos: int) -> tuple[int, int]:
    """The sentence holding `pos`, with those before it that the splitter cut off after an
    abbreviation ("TP. Hồ Chí Minh")."""
    index = doc.sentence_of(pos)
    start, end = doc.sentence_bounds(index)
    cut = doc.lex.pattern("scope.abbreviation_before")
    while index > 0 and cut.search(doc.low, max(0, start - 8), start):
        index -= 1
        start = doc.sentence_bounds(index)[0]
    return start, end


def _listed(doc: Doc, names: Sequence[Named]) -> list[str]:
    """The longest run of provinces joined by commas or "và", as their codes."""
    best: list[str] = []
    run: list[str] = []
    joiner = doc.lex.pattern("scope.list_joiner")
    for k, (_, _, code) in enumerate(names):
        if run and not joiner.fullmatch(doc.low[names[k - 1][1] : names[k][0]]):
            run = []
        run.append(code)
        if len(run) > len(best):
            best = list(run)
    return best if len(set(best)) == len(best) else []


def _is_sub(doc: Doc, m: Mention, places: _Places) -> bool:
    """A named commune, district or town that is no province of its own, or a single body:
    one named before the figure, a body after it ("tại Trung tâm ..."), the place that holds
    a rank ("thứ 2 là huyện ..."), or a province's own body in a ranking of bodies."""
    lex = doc.lex
    clause = m.clause
    after = doc.text[m.unit_end : clause_end(doc, m)]
    if lex.pattern("scope.sub_right").match(after):
        return True
    holder = lex.pattern("scope.place_after").match(after)
    if holder is not None:
        place = lex.pattern("scope.sub").match(after, holder.end())
        if (
            place is not None
            and area_code(place.group(), doc.code_list) is None
            and not lex.pattern("scope.place_more").match(after, place.end())
        ):
            return True
    start = max(clause, m.start - lex.integer("windows.governs"))
    if (
        (m.cell is not None or m.unit in (Unit.rank, Unit.other))
        and (
            doc.text.find("Sở ", start, m.start) >= 0 or doc.text.find("Văn ", start, m.start) >= 0
        )
        and _body_figure(doc, m, places, "scope.province_body", start, anchored=False)
    ):
        return True
    return any(
        area_code(found.group(), doc.code_list) is None
        for found in lex.pattern("scope.sub").finditer(
            doc.text, max(clause, m.start - lex.integer("windows.governs")), m.start
        )
    )
