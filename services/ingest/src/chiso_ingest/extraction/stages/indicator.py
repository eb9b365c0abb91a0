"""Indicator: which catalogue metric each figure measures.

A change or ratio measures its level's metric. A level's metric is the best-scored
catalogue phrasing in the windows around it (its own item first, then the words after it,
then its segment before it), else its section's topic with its item, else the metric of
the level before it when nothing new is named.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from chiso_ingest.extraction.document import Doc, join
from chiso_ingest.extraction.indicators import PhraseIndex, PhraseMatch, normalise
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.stages.links import clause_end
from chiso_shared.catalogue import indicators
from chiso_shared.facts import Status, Unit

# the scoring windows (`weights.<name>` holds each one's bonus and slope), in search order
_WINDOWS = ("after_value", "after_clause", "segment", "sentence")


@dataclass(frozen=True, slots=True)
class _Scoring:
    """What one run of the stage scores phrasings with: the phrasings found, and the
    weights of data/lexicon.toml [weights], read once."""

    phrases: PhraseIndex
    windows: tuple[tuple[float, float], ...]  # (bonus, slope) of each of `_WINDOWS`
    item_bonus: float
    item_adjacent: float
    max_distance: float


def _scoring(doc: Doc, mentions: list[Mention]) -> _Scoring:
    lex = doc.lex
    return _Scoring(
        phrases=_phrases(doc, mentions),
        windows=tuple(
            (lex.number(f"weights.{name}.bonus"), lex.number(f"weights.{name}.slope"))
            for name in _WINDOWS
        ),
        item_bonus=lex.number("weights.item_bonus"),
        item_adjacent=lex.number("weights.item_adjacent"),
        max_distance=lex.number("weights.max_distance"),
    )


def read_indicator(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    mentions = list(mentions)
    scoring = _scoring(doc, mentions)
    out: list[Mention] = []
    for m in mentions:
        if m.parent is not None:
            level = out[m.parent]
            code, scores = level.indicator, level.indicator_scores
        else:
            code, scores = _own_indicator(doc, scoring, out, m)
        out.append(m._replace(indicator=code, indicator_scores=scores))
    return out


def _phrases(doc: Doc, mentions: list[Mention]) -> PhraseIndex:
    """The catalogue phrasings in the sentences that hold figures (adjacent sentences
    joined): the only words that name a figure's metric."""
    regions = join(doc.sentence_bounds(m.sentence) for m in mentions)
    light = " ".join(doc.lex.words("indicator.light_words"))
    return PhraseIndex(doc.low, light, regions, doc.lex)


# a metric and its phrasing's score against the best other metric's (see `Mention`)
_Choice = tuple[str | None, tuple[float, float] | None]


def _own_indicator(doc: Doc, scoring: _Scoring, done: list[Mention], m: Mention) -> _Choice:
    code, scores = _pick(doc, scoring, m)
    if code is None and m.previous_level is not None:
        previous = done[m.previous_level]
        if previous.unit is m.unit and _same_metric(doc, m):
            code = previous.indicator
    if code is not None and _counts_other_things(doc, m, code):
        return None, None
    return code, scores


def _windows(
    doc: Doc, scoring: _Scoring, m: Mention
) -> tuple[tuple[int, int, int, float, float], ...]:
    """(start, end, how far a phrase may run on, bonus, distance slope) of each window."""
    sent_start = m.near
    end = min(clause_end(doc, m), m.next_start)
    spans = (
        (m.end, m.right_end, max(m.right_end, end)),
        (m.right_end, end, end),
        (m.seg_start, m.start, m.start),
        (sent_start, m.seg_start, m.seg_start),
    )
    windows = tuple(
        (a, b, limit, bonus, slope)
        for (a, b, limit), (bonus, slope) in zip(spans, scoring.windows, strict=True)
    )
    return windows[:3] if share_named_after(doc, m) else windows


def _pick(doc: Doc, scoring: _Scoring, m: Mention) -> _Choice:
    unit = m.unit.value
    best: tuple[float, str] | None = None
    scores: dict[str, float] = {}  # each metric's best score
    named_after = doc.lex.pattern("indicator.label_after").match(doc.low, m.unit_end) is not None
    for a, b, limit, bonus, slope in _windows(doc, scoring, m):
        if a >= b:
            continue
        for match in scoring.phrases.within(a, b, limit):
            if match.phrase.unit != unit:
                continue
            score = match.weight + bonus + _closeness(scoring, match, m) / slope
            if a == m.end and (named_after or _is_item(scoring, m, match)):
                score += scoring.item_bonus
            if best is None or score > best[0]:
                best = (score, match.phrase.code)
            code = match.phrase.code
            scores[code] = max(score, scores.get(code, score))
    if best is None:
        return _topic_indicator(doc, m), None
    others = (v for k, v in scores.items() if k != best[1])
    return best[1], (best[0], max(others, default=-math.inf))


def _closeness(scoring: _Scoring, match: PhraseMatch, m: Mention) -> float:
    distance = m.start - match.end if match.end <= m.start else match.start - m.end
    return -float(min(max(distance, 0), scoring.max_distance))


def _is_item(scoring: _Scoring, m: Mention, match: PhraseMatch) -> bool:
    gap = match.start - m.unit_end
    return m.unit is Unit.count and 0 <= gap <= scoring.item_adjacent


def _topic_indicator(doc: Doc, m: Mention) -> str | None:
    """A bare "19 doanh nghiệp" under the heading "1. Bưu chính": item plus section topic."""
    i = bisect_right(doc.topics, (m.start, "")) - 1
    if i < 0:
        return None
    topic = doc.topics[i][1]
    item = (m.item or "").lower()
    label = doc.low[m.seg_start : m.start]
    n = doc.lex.integer("weights.head_words")
    heads = (" ".join(item.split()[:n]), item, " ".join(label.split()[:n]))
    for head in heads:
        if head.strip():
            code = _topic_match(
                head, topic, m.unit.value, " ".join(doc.lex.words("indicator.light_words"))
            )
            if code is not None:
                return code
    return None


@lru_cache(maxsize=4096)
def _topic_match(head: str, topic: str, unit: str, light_words: str) -> str | None:
    text = f"{head} {topic}"
    for match in PhraseIndex(text, light_words, [(0, len(text))]).matches:
        if match.start < len(head) < match.end and match.phrase.unit == unit:
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


def share_named_after(doc: Doc, m: Mention) -> bool:
    """A share whose words follow it ("..., 85,2%; 100% xã có điểm phục vụ bưu chính"): the
    metric is named there, not by an earlier figure of the sentence."""
    after = [w for w in doc.text[m.unit_end : clause_end(doc, m)].split() if w != "|"]
    return m.unit is Unit.percent and len(after) > doc.lex.integer("weights.thin_label")


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
