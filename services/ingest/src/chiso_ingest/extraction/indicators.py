"""Matching metric labels against the catalogue's phrasings (shared indicators.tsv)."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from types import MappingProxyType

from chiso_ingest.extraction.lexicon import Lexicon, lexicon
from chiso_shared.catalogue import indicators

_WORD = re.compile(r"\w+")
_WORD_SPLIT = re.compile(r"(\w+)")
# annotations inside a phrasing that are not text to match: "(old)", "(Hue-S)", "..."
_NOTE = re.compile(r"\((?:old|complement|[A-Za-z-]{1,10})\)|\.\.\.|…")
# the two spellings of tone marks on oa/oe/uy ("hoá" and "hóa") are read as one
_TONES = "áàảãạ", "óòỏõọ", "éèẻẽẹ", "ýỳỷỹỵ", "úùủũụ"
_SWAP = MappingProxyType(
    {
        **{f"o{a}": f"{o}a" for a, o in zip(_TONES[0], _TONES[1], strict=True)},
        **{f"o{e}": f"{o}e" for e, o in zip(_TONES[2], _TONES[1], strict=True)},
        **{f"u{y}": f"{u}y" for y, u in zip(_TONES[3], _TONES[4], strict=True)},
    }
)
# ... and a syllable written with i or y after these consonants ("tỉ lệ" and "tỷ lệ", "kí
# số" and "ký số", "quản lí" and "quản lý") is read with y
_I_TO_Y = MappingProxyType(dict(zip("íìỉĩị", _TONES[3], strict=True)))
# every branch opens with a letter, so the engine skips to the next candidate letter at once
_OLD_STYLE = re.compile(
    f"o[{_TONES[0]}{_TONES[2]}]|u[{_TONES[3]}]|[klmst](?<!\\w[klmst])[{''.join(_I_TO_Y)}](?!\\w)"
)


def _modern(found: re.Match[str]) -> str:
    text = found.group()
    swapped = _SWAP.get(text)
    return swapped if swapped is not None else text[0] + _I_TO_Y[text[1]]


def normalise(low: str) -> str:
    """Lower-case text with one tone placement and one i/y spelling; same length."""
    return _OLD_STYLE.sub(_modern, low)


@dataclass(frozen=True, slots=True, eq=False)
class Phrase:
    words: tuple[str, ...]
    code: str
    unit: str
    chars: int
    # long wordy phrasings survive a dropped word; short or coded ones do not
    may_miss: bool
    # the words one of which a text must hold near its first for it to fit: the last, and
    # the one before when the last may be the word missing
    ends: frozenset[str]


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    start: int
    end: int
    phrase: Phrase
    weight: float


@dataclass(frozen=True, slots=True)
class _Group:
    """The phrasings one pair of words may start, with the `ends` of all of them."""

    phrases: tuple[Phrase, ...]
    ends: frozenset[str]


@dataclass(frozen=True, slots=True)
class Catalogue:
    singles: dict[str, tuple[Phrase, ...]]
    # first word -> a word that may follow it (its second, or third when the second may
    # be missing) -> the phrasings
    by_next: dict[str, dict[str, _Group]]
    heavy: frozenset[str]
    longest: int  # the most words of a phrasing
    # how loosely a phrasing may be written (lexicon `[phrase]`)
    max_gap: int
    gap_cost: float
    missing_cost: float


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(normalise(text.lower())))


@lru_cache(maxsize=8)  # one per lexicon and light-word list: the package has one of each
def catalogue(light_words: str = "", lex: Lexicon | None = None) -> Catalogue:
    lex = lex or lexicon()
    phrases = _phrases(lex)
    vocabulary = {w for p in phrases for w in p.words}
    light = set(_words(light_words))
    singles: dict[str, list[Phrase]] = {}
    by_next: dict[str, dict[str, list[Phrase]]] = {}
    for p in phrases:
        nexts = by_next.setdefault(p.words[0], {})
        if len(p.words) == 1:
            singles.setdefault(p.words[0], []).append(p)
            continue
        nexts.setdefault(p.words[1], []).append(p)
        if p.may_miss:
            nexts.setdefault(p.words[2], []).append(p)
    return Catalogue(
        singles={k: tuple(v) for k, v in singles.items()},
        by_next={k: {w: _group(v) for w, v in d.items()} for k, d in by_next.items()},
        heavy=frozenset(vocabulary - light),
        longest=max(len(p.words) for p in phrases),
        max_gap=lex.integer("phrase.max_gap"),
        gap_cost=float(lex.number("phrase.gap_cost")),
        missing_cost=float(lex.number("phrase.missing_cost")),
    )


def _phrases(lex: Lexicon) -> list[Phrase]:
    """Every phrasing, once per code: the catalogue's, then those of metrics outside it
    (code "", for any unit or for a rank only)."""
    min_words_to_miss = lex.integer("phrase.min_words_to_miss")
    named = [(ind.code, ind.unit, (ind.name_vi, *ind.phrasings)) for ind in indicators()]
    named.append(("", "", lex.words("indicator.other_metrics")))
    named.append(("", "rank", lex.words("indicator.other_ranks")))
    phrases: list[Phrase] = []
    seen: set[tuple[tuple[str, ...], str]] = set()
    for code, unit, raws in named:
        for raw in raws:
            words = _words(_NOTE.sub(" ", raw))
            if not words or (words, code) in seen:
                continue
            seen.add((words, code))
            chars = sum(len(w) for w in words) + len(words) - 1
            may_miss = len(words) >= min_words_to_miss and not any(w.isdigit() for w in words)
            ends = frozenset(words[-2:] if may_miss else words[-1:])
            phrases.append(Phrase(words, code, unit, chars, may_miss, ends))
    return phrases


def _group(phrases: list[Phrase]) -> _Group:
    return _Group(tuple(phrases), frozenset().union(*(p.ends for p in phrases)))


def _align(words: list[str], i: int, phrase: Phrase, cat: Catalogue) -> tuple[int, float] | None:
    """The last token index and the penalty of `phrase` read from token `i`, if it fits.

    Inserted words must be light: a word that names some metric ("internet") changes
    the metric, so it may not be skipped over.
    """
    heavy, max_gap = cat.heavy, cat.max_gap
    j, cost, missed = i + 1, 0.0, False
    last = i
    for w in phrase.words[1:]:
        stop = min(len(words), j + max_gap + 1)
        k = -1
        for t in range(j, stop):
            if words[t] == w:
                k = t
                break
            if words[t] in heavy:
                break
        if k < 0:
            if missed or not phrase.may_miss:
                return None
            missed, cost = True, cost + cat.missing_cost + 2.0 * len(w)
            continue
        cost += cat.gap_cost * (k - j)
        last, j = k, k + 1
    return last, cost


class PhraseIndex:
    """The catalogue phrasings found in the given regions of one document.

    The `values` spans (figures with their units) are read as blanks: a phrasing may run
    across a figure ("nộp 46.000 tỷ đồng vào ngân sách nhà nước"), never through its words.
    """

    def __init__(
        self,
        low: str,
        light_words: str,
        regions: list[tuple[int, int]],
        lex: Lexicon | None = None,
        values: list[tuple[int, int]] | None = None,
    ) -> None:
        cat = catalogue(light_words, lex or lexicon())  # one cached catalogue either way
        matches: list[PhraseMatch] = []
        if values:
            low = _blank(low, values)
        for start, end in regions:
            # words and what lies between them, alternately: word k spans bounds[2k + 1 : 2k + 3]
            parts = _WORD_SPLIT.split(normalise(low[start:end]))
            bounds = list(accumulate(map(len, parts), initial=start))
            matches.extend(_scan(cat, parts[1::2], bounds))
        self.matches = matches
        self._starts = [m.start for m in matches]

    def within(self, start: int, end: int, limit: int | None = None) -> list[PhraseMatch]:
        """Matches starting inside [start, end) and ending by `limit` (default `end`)."""
        limit = end if limit is None else limit
        out: list[PhraseMatch] = []
        i = bisect_left(self._starts, start)
        while i < len(self.matches) and self.matches[i].start < end:
            if self.matches[i].end <= limit:
                out.append(self.matches[i])
            i += 1
        return out


def _blank(low: str, spans: list[tuple[int, int]]) -> str:
    """`low` with the given (sorted, disjoint) spans turned into spaces; same length."""
    pieces: list[str] = []
    at = 0
    for start, end in spans:
        if start < at:
            continue
        pieces.append(low[at:start])
        pieces.append(" " * (end - start))
        at = end
    pieces.append(low[at:])
    return "".join(pieces)


def _scan(cat: Catalogue, words: list[str], bounds: list[int]) -> list[PhraseMatch]:
    """The phrasings read from each word of `words`; word k spans bounds[2k + 1 : 2k + 3]."""
    matches: list[PhraseMatch] = []
    singles, by_next = cat.singles, cat.by_next
    for i in [i for i, word in enumerate(words) if word in by_next]:
        word, nexts = words[i], by_next[words[i]]
        start = bounds[2 * i + 1]
        for phrase in singles.get(word, ()):
            matches.append(PhraseMatch(start, bounds[2 * i + 2], phrase, float(phrase.chars)))
        for phrase, (last, cost) in _fits(cat, words, i, nexts):
            weight = phrase.chars - cost
            matches.append(PhraseMatch(start, bounds[2 * last + 2], phrase, weight))
    return matches


def _fits(
    cat: Catalogue, words: list[str], i: int, nexts: dict[str, _Group]
) -> list[tuple[Phrase, tuple[int, float]]]:
    """The phrasings of two words or more read from word `i`, each with its `_fit`.

    A phrasing is read only if its last word (or, when it may miss one, the one before)
    lies within the words its longest phrasing may reach: a cheap set test that spares
    most calls to `_fit`, which would refuse the phrasing on the same test.
    """
    found: list[tuple[Phrase, tuple[int, float]]] = []
    tried: set[Phrase] = set()
    reach: set[str] | None = None
    for nxt in words[i + 1 : i + 2 + cat.max_gap]:
        group = nexts.get(nxt)
        if group is None:
            continue
        if reach is None:
            reach = set(words[i + 1 : i + cat.longest + 2 * cat.max_gap])
        if group.ends.isdisjoint(reach):
            continue
        for phrase in group.phrases:
            if phrase in tried or phrase.ends.isdisjoint(reach):
                continue
            tried.add(phrase)
            fit = _fit(words, i, phrase, cat)
            if fit is not None:
                found.append((phrase, fit))
    return found


def _fit(words: list[str], i: int, phrase: Phrase, cat: Catalogue) -> tuple[int, float] | None:
    n = len(phrase.words)
    if tuple(words[i : i + n]) == phrase.words:
        return i + n - 1, 0.0
    reach = words[i + 1 : i + n + 2 * cat.max_gap]
    if phrase.words[-1] not in reach and not (phrase.may_miss and phrase.words[-2] in reach):
        return None
    return _align(words, i, phrase, cat)
