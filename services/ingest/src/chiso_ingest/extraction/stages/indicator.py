"""Indicator: which catalogue metric each figure measures.

A change or ratio measures its level's metric. A level's metric is the best-scored
catalogue phrasing in the windows around it (its own item first, then the words after it,
then its segment before it), else its section's topic with its item, else (for a rank) the
document's title, else the metric of the level before it when nothing new is named. A
phrasing of a metric outside the catalogue ("PAR Index") names that metric: no code, and
nothing borrowed.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from chiso_ingest.extraction.document import Doc, join
from chiso_ingest.extraction.indicators import PhraseIndex, PhraseMatch, normalise
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.stages.links import clause_end
from chiso_shared.catalogue import indicators
from chiso_shared.facts import Status, Unit

_CLAUSE_MARK = re.compile(r"[,;.!?\n]")

# the scoring windows (`weights.<name>` holds each one's bonus and slope), in search order
_WINDOWS = ("after_value", "after_clause", "segment", "sentence", "earlier_clause")
# the units a money figure may be written in, whichever the catalogue gives its metric
_MONEY = frozenset({Unit.VND.value, Unit.USD.value})
# what `_pick` gives when the figure's words name a metric outside the catalogue
_OTHER = ""


@dataclass(frozen=True, slots=True)
class _Scoring:
    """What one run of the stage scores phrasings with: the phrasings found, and the
    weights of data/lexicon.toml [weights], read once."""

    phrases: PhraseIndex
    windows: tuple[tuple[float, float], ...]  # (bonus, slope) of each of `_WINDOWS`
    item_bonus: float
    head_bonus: float
    item_adjacent: float
    max_distance: float
    light: str  # the light words, as one text
    # where the document names a sector ("bưu chính"), in order: (start, the sector)
    sectors: tuple[tuple[int, str], ...]
    sector_starts: tuple[int, ...]
    # the caption above each table row line walked so far (see `_caption`)
    captions: dict[int, str] = field(default_factory=dict)


def _scoring(doc: Doc, mentions: list[Mention]) -> _Scoring:
    lex = doc.lex
    found = lex.pattern("indicator.sector").finditer(doc.low)
    sectors = tuple((f.start(), f.group()) for f in found)
    return _Scoring(
        phrases=_phrases(doc, mentions),
        windows=tuple(
            (lex.number(f"weights.{name}.bonus"), lex.number(f"weights.{name}.slope"))
            for name in _WINDOWS
        ),
        item_bonus=lex.number("weights.item_bonus"),
        head_bonus=lex.number("weights.head_bonus"),
        item_adjacent=lex.number("weights.item_adjacent"),
        max_distance=lex.number("weights.max_distance"),
        light=" ".join(lex.words("indicator.light_words")),
        sectors=sectors,
        sector_starts=tuple(start for start, _ in sectors),
    )


def read_indicator(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    mentions = list(mentions)
    scoring = _scoring(doc, mentions)
    out: list[Mention] = []
    for m in mentions:
        if m.parent is not None:
            code, scores = _parent_indicator(out, m), out[m.parent].indicator_scores
        else:
            code, scores = _own_indicator(doc, scoring, out, m)
        out.append(m.evolve(indicator=code, indicator_scores=scores))
    return _listed_ranks(doc, out)


def _listed_ranks(doc: Doc, out: list[Mention]) -> list[Mention]:
    """The ranks of a list ("thứ hạng 6 và 12 trong bảng xếp hạng ...") are of the thing
    named after the last of them: an unnamed rank takes the metric of the rank it is
    listed with."""
    joiner = doc.lex.pattern("indicator.list_joiner")
    for k in range(len(out) - 2, -1, -1):
        m, n = out[k], out[k + 1]
        listed = joiner.fullmatch(doc.low, m.unit_end, n.start) is not None
        if m.unit is Unit.rank and n.unit is Unit.rank and m.indicator is None and listed:
            out[k] = m.evolve(indicator=n.indicator)
    return out


def _parent_indicator(done: list[Mention], m: Mention) -> str | None:
    """A change or ratio measures its level's metric; a rank moves in places, so a change
    of another unit after it ("đạt 52 Mbps, xếp thứ 48/180, tăng 9,5%") is of the level
    the rank ranks."""
    assert m.parent is not None
    parent = done[m.parent]
    if parent.unit is Unit.rank and m.unit is not Unit.rank and parent.previous_level is not None:
        return done[parent.previous_level].indicator
    return parent.indicator


def _phrases(doc: Doc, mentions: list[Mention]) -> PhraseIndex:
    """The catalogue phrasings in the sentences that hold figures (adjacent sentences
    joined): the only words that name a figure's metric."""
    regions = join(doc.sentence_bounds(m.sentence) for m in mentions)
    light = " ".join(doc.lex.words("indicator.light_words"))
    # a figure is blanked with its scale and a short unit ("46.000 tỷ đồng"); a long unit
    # names the metric itself ("70 thuê bao BRĐĐ/100 dân") and stays to be read
    short = doc.lex.integer("windows.value_unit")
    values = [(m.start, m.unit_end if m.unit_end - m.end <= short else m.end) for m in mentions]
    return PhraseIndex(doc.low, light, regions, doc.lex, values)


# a metric and its phrasing's score against the best other metric's; no scores when the
# metric came from a heading or an earlier figure (see `Mention.indicator_scores`)
_Choice = tuple[str | None, tuple[float, float] | None]


def _own_indicator(doc: Doc, scoring: _Scoring, done: list[Mention], m: Mention) -> _Choice:
    code, scores = _pick(doc, scoring, m)
    if code == _OTHER:
        return None, None
    if code is None and m.previous_level is not None:
        previous = done[m.previous_level]
        if previous.unit is m.unit and _same_metric(doc, m) and _same_item(previous, m):
            code = previous.indicator
    if code is not None and _counts_other_things(doc, m, code):
        return None, None
    return code, scores


def _same_item(previous: Mention, m: Mention) -> bool:
    """Two counts of different nouns ("2 doanh nghiệp và 11 văn phòng đại diện") are two
    things, whatever metric the first one names."""
    if m.unit is not Unit.count or not m.item or not previous.item:
        return True
    return m.item.split()[0].lower() == previous.item.split()[0].lower()


def _windows(
    doc: Doc, scoring: _Scoring, m: Mention, stop: int
) -> tuple[tuple[int, int, int, float, float], ...]:
    """(start, end, how far a phrase may run on, bonus, distance slope) of each window."""
    sent_start = m.clause
    end = min(stop, m.next_start)
    spans = (
        (m.end, m.right_end, max(m.right_end, end)),
        (m.right_end, end, end),
        # a phrasing of the segment may run on across the value ("nộp 46.000 tỷ đồng vào
        # ngân sách nhà nước"): `_fits_value` keeps it to the value's clause
        (m.seg_start, m.start, max(m.start, end)),
        (sent_start, m.seg_start, m.seg_start),
        # the clauses of its sentence before its own: named there only if its own names none
        (m.near, sent_start, sent_start),
    )
    windows = tuple(
        (a, b, limit, bonus, slope)
        for (a, b, limit), (bonus, slope) in zip(spans, scoring.windows, strict=True)
    )
    if _share_of_total(doc, m):
        return windows[2:]
    return windows[:3] if share_named_after(doc, m, stop) else windows


def _pick(doc: Doc, scoring: _Scoring, m: Mention) -> _Choice:
    """The code of the best phrasing near `m`, `_OTHER` when that names a metric outside the
    catalogue, else a topic's metric when its clause names nothing at all."""
    best: tuple[float, str] | None = None
    runner = -math.inf  # the best score of any other metric than the best's
    unit = m.unit.value
    named = False  # whether its clause names any metric, of any unit
    named_after = doc.lex.pattern("indicator.label_after").match(doc.low, m.unit_end) is not None
    stop = clause_end(doc, m)
    next_in_clause = m.next_start < stop
    own_name = _share_name(doc, m)
    for a, b, limit, bonus, slope in _windows(doc, scoring, m, stop):
        if a >= b:
            continue
        for match in scoring.phrases.within(a, b, limit):
            if match.end <= own_name or not _fits_value(doc, m, match, next_in_clause):
                continue
            named = named or match.start >= m.clause
            if match.phrase.unit != unit and not _unit_fits(match.phrase.unit, unit):
                continue
            score = match.weight + bonus + _closeness(scoring, match, m) / slope
            if a == m.end and (named_after or _is_item(scoring, m, match)):
                score += scoring.item_bonus
            elif match.end <= m.start and _repeats_head(doc, m, match):
                score += scoring.head_bonus
            if best is None or score > best[0]:
                if best is not None and best[1] != match.phrase.code:
                    runner = max(runner, best[0])
                best = (score, match.phrase.code)
            elif match.phrase.code != best[1]:
                runner = max(runner, score)
    if best is not None:
        return best[1], (best[0], runner)
    code = None if named else _table_indicator(doc, scoring, m)
    code = code or _topic_indicator(doc, scoring, m)
    if code is None and not named and m.unit is Unit.rank:
        code = _title_indicator(doc, scoring, m)
    return code, None


def _share_name(doc: Doc, m: Mention) -> int:
    """Where a share's own name starts when its segment gives it one ("Về kinh tế số, tỷ
    lệ doanh nghiệp … đạt 45%"): words before that are its topic, not its metric. -1 when
    it has none ("…: tỷ lệ đạt 85%")."""
    if m.unit is not Unit.percent:
        return -1
    heads = list(doc.lex.pattern("indicator.share_head").finditer(doc.low, m.seg_start, m.start))
    if not heads:
        return -1
    name = doc.lex.pattern("label.trim_tail").sub("", doc.low[heads[-1].end() : m.start])
    return heads[-1].start() if len(name.split()) > doc.lex.integer("weights.thin_label") else -1


def _unit_fits(phrase_unit: str, unit: str) -> bool:
    return phrase_unit in (unit, _OTHER) or (phrase_unit in _MONEY and unit in _MONEY)


def _fits_value(doc: Doc, m: Mention, match: PhraseMatch, next_in_clause: bool) -> bool:
    """Whether a phrasing found around `m` may name it: one that runs across the value
    must end before a comma; one after a comma that comes before the next value of the
    clause names that value ("Kinh tế số xếp thứ 8, Xã hội số xếp thứ 5"), not this one."""
    if match.start < m.start < match.end:
        return _CLAUSE_MARK.search(doc.low, m.unit_end, match.end) is None
    if match.start >= m.end and next_in_clause:
        return doc.low.find(",", m.unit_end, match.start) < 0
    return True


def _closeness(scoring: _Scoring, match: PhraseMatch, m: Mention) -> float:
    distance = m.start - match.end if match.end <= m.start else match.start - m.end
    return -float(min(max(distance, 0), scoring.max_distance))


def _repeats_head(doc: Doc, m: Mention, match: PhraseMatch) -> bool:
    """The count's item repeats the phrasing's head noun ("nâng tổng số trạm BTS lên 6.840
    trạm"): the phrasing names what is counted, not the subject before it."""
    if m.unit is not Unit.count or not m.item:
        return False
    head = doc.low[match.start : match.end].split(maxsplit=1)
    return bool(head) and m.item.lower().split(maxsplit=1)[0] == head[0]


def _is_item(scoring: _Scoring, m: Mention, match: PhraseMatch) -> bool:
    gap = match.start - m.unit_end
    return m.unit is Unit.count and 0 <= gap <= scoring.item_adjacent


def _title_indicator(doc: Doc, scoring: _Scoring, m: Mention) -> str | None:
    """A rank whose clause names nothing ("địa phương này xếp thứ 12/63") under a heading
    or in a text whose title names what it ranks ("... bảng xếp hạng chuyển đổi số"): that
    metric. A heading naming a ranking outside the catalogue ("2. Chỉ số PAR Index") gives
    none, and the title is not read past it."""
    for title in (_heading_topic(doc, m), _title(doc)):
        code = _title_match(title, m.unit.value, scoring.light) if title else None
        if code is not None:
            return code or None
    return None


def _title(doc: Doc) -> str:
    """The document's opening short lines ("BÁO CÁO / Kết quả đánh giá chỉ số ..."), up to
    the first long one or the first after the title line that ends as a sentence (a
    paragraph), and at most
    `windows.title` characters."""
    limit = doc.lex.integer("windows.title")
    lines: list[str] = []
    for line in doc.low[: 2 * limit].lstrip().split("\n"):
        if len(line) > limit or sum(map(len, lines)) + len(line) > limit:
            break
        if lines and line.rstrip().endswith((".", "!", "?")):
            break  # a sentence: the body has begun (a headline ends with no stop)
        lines.append(line)
    return " | ".join(lines)


def _table_indicator(doc: Doc, scoring: _Scoring, m: Mention) -> str | None:
    """A table cell whose row names no metric (a row per district or province): its
    column's header ("Trạm BTS (trạm)"), else the table's caption ("Bảng 2. Tỷ lệ hồ sơ
    trực tuyến (%)")."""
    if m.cell is None:
        return None
    for text in (m.cell.header, _caption(doc, m.cell.start, scoring.captions)):
        code = _title_match(text, m.unit.value, scoring.light) if text else None
        if code is not None:
            return code or None
    return None


def _caption(doc: Doc, pos: int, known: dict[int, str]) -> str:
    """The first line above the table holding `pos` that is no row of it (`known` holds the
    caption of each row line already walked, so a long table is walked once)."""
    line = doc.low.rfind("\n", 0, pos) + 1
    walked: list[int] = []
    caption = ""
    while line > 0 and line not in known:
        walked.append(line)
        above = doc.low.rfind("\n", 0, line - 1) + 1
        text = doc.low[above : line - 1]
        if text.strip() and "|" not in text and "\t" not in text:
            caption = text[: doc.lex.integer("windows.caption")]
            break
        line = above
    else:
        caption = known.get(line, "")
    known.update(dict.fromkeys(walked, caption))
    return caption


@lru_cache(maxsize=256)
def _title_match(title: str, unit: str, light_words: str) -> str | None:
    """The code of the weightiest phrasing of `unit` in `title` ("" for one outside the
    catalogue), None if it has none."""
    matches = PhraseIndex(title, light_words, [(0, len(title))]).matches
    fits = [match for match in matches if match.phrase.unit in (unit, _OTHER)]
    best = max(fits, key=lambda match: match.weight, default=None)
    return best.phrase.code if best is not None else None


def _share_of_total(doc: Doc, m: Mention) -> bool:
    """A share followed by its whole ("chiếm 76% tổng số thuê bao"): named before it."""
    if m.unit is not Unit.percent:
        return False
    return doc.lex.pattern("indicator.share_of_total").match(doc.low, m.unit_end) is not None


def _topic_indicator(doc: Doc, scoring: _Scoring, m: Mention) -> str | None:
    """A bare "19 doanh nghiệp" under the heading "1. Bưu chính", or after a sentence on
    "các doanh nghiệp bưu chính": its item plus its section's topic, else plus the sector
    last named before it."""
    item = (m.item or "").lower()
    label = doc.low[m.seg_start : m.start]
    n = doc.lex.integer("weights.head_words")
    heads = (" ".join(item.split()[:n]), item, " ".join(label.split()[:n]))
    code = _with_topic(heads, _heading_topic(doc, m), m.unit.value, scoring.light)
    if code is None:
        code = _with_topic(heads, _sector_before(doc, scoring, m), m.unit.value, scoring.light)
    return code


def _with_topic(heads: tuple[str, ...], topic: str, unit: str, light: str) -> str | None:
    for head in heads if topic else ():
        code = _topic_match(head, topic, unit, light) if head.strip() else None
        if code is not None:
            return code
    return None


def _heading_topic(doc: Doc, m: Mention) -> str:
    i = bisect_right(doc.topics, (m.start, "")) - 1
    return doc.topics[i][1] if i >= 0 else ""


def _sector_before(doc: Doc, scoring: _Scoring, m: Mention) -> str:
    """The sector ("bưu chính") named last in the text before a figure's segment, within
    `windows.sentence` characters."""
    i = bisect_right(scoring.sector_starts, m.seg_start) - 1
    while i >= 0 and scoring.sectors[i][0] + len(scoring.sectors[i][1]) > m.seg_start:
        i -= 1
    if i < 0 or scoring.sectors[i][0] < m.seg_start - doc.lex.integer("windows.sentence"):
        return ""
    return scoring.sectors[i][1]


@lru_cache(maxsize=4096)
def _topic_match(head: str, topic: str, unit: str, light_words: str) -> str | None:
    text = f"{head} {topic}"
    for match in PhraseIndex(text, light_words, [(0, len(text))]).matches:
        if match.start < len(head) < match.end and _unit_fits(match.phrase.unit, unit):
            return match.phrase.code
    return None


def _same_metric(doc: Doc, m: Mention) -> bool:
    """A target of the figure before it, or a figure whose text names only a new period
    ("…2.278 tỷ đồng, trong năm 2023 ước tính 2.483 tỷ đồng"), measures the same metric."""
    if m.stated_status is Status.target:
        return True
    seg = doc.low[m.seg_start : m.start]
    words = (
        doc.lex.pattern("label.trim_tail")
        .sub("", doc.lex.pattern("period.period_words").sub(" ", seg))
        .split()
    )
    if len(words) > doc.lex.integer("weights.thin_label"):
        return False
    return not share_named_after(doc, m)


def share_named_after(doc: Doc, m: Mention, stop: int | None = None) -> bool:
    """A share whose words follow it ("..., 85,2%; 100% xã có điểm phục vụ bưu chính"): the
    metric is named there, not by an earlier figure of the sentence."""
    if m.unit is not Unit.percent:
        return False
    stop = clause_end(doc, m) if stop is None else stop
    after = [w for w in doc.text[m.unit_end : stop].split() if w != "|"]
    return len(after) > doc.lex.integer("weights.thin_label")


def _counts_other_things(doc: Doc, m: Mention, code: str) -> bool:
    """A count of communes, villages or case files ("42 thôn", "36.520 hồ sơ") measures no
    metric named near it, unless one of the metric's own phrasings counts the same thing."""
    if m.unit is not Unit.count or not m.item:
        return False
    noun = doc.lex.pattern("indicator.counted_other").match(normalise(m.item.lower()))
    return noun is not None and not any(p.startswith(noun.group()) for p in _phrasings(code))


@lru_cache(maxsize=256)
def _phrasings(code: str) -> tuple[str, ...]:
    found = next((i for i in indicators() if i.code == code), None)
    return tuple(normalise(p.lower()) for p in found.phrasings) if found else ()
