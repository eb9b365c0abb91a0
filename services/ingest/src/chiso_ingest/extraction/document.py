"""The document the stages read: built once, complete and frozen.

Everything that belongs to the text as a whole is here before the first number is read:
sentences, clauses, headings with their ranks, tables, plan sections, the periods written
in it, and the report's own period and area. (The catalogue phrasings are the indicator
stage's own working data: it finds them in the sentences of the figures it reads.)
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from chiso_ingest.extraction.lexicon import Lexicon
from chiso_ingest.extraction.periods import (
    PeriodMention,
    document_period,
    find_periods,
    published_period,
    resolve_period,
)
from chiso_ingest.extraction.scope import document_area
from chiso_ingest.extraction.tables import Tables, TableWords, find_tables
from chiso_shared.catalogue import code_list_on
from chiso_shared.periods import Period

# line breaks, or stops before a space or a letter: `\n+|[.!?…]+(?:\s+|(?=[^\W\d_]))` written
# to open with one character class, which lets the engine skip to the next candidate
# character at once (4x faster than trying both branches at every character)
_SENTENCE_BREAK = re.compile(r"[\n.!?…](?:(?<=\n)\n*|(?<=[.!?…])[.!?…]*(?:\s+|(?=[^\W\d_])))")
_SEMICOLON = re.compile(r";")
# a line at least this long that ends in a word is prose wrapped onto the next line
_WRAPPED_LINE = 60
# a number written with a mark ("2.684.310", "8,2"): the tokens the digit style is read from
_MARKED_NUMBER = re.compile(r"\d+[.,][\d.,]*\d")
_LAST_WORD = re.compile(r"(?<![^\W\d_])[^\W\d_]+$")
_TOP_HEADING = re.compile(r"(?m)^[ \t]*(?:\d{1,2}|[IVX]{1,4})\.[ \t]+([^\n\d]{2,80})$")
_HEADING = re.compile(
    r"(?m)^[ \t]*(?P<number>(?:PHẦN|Phần|CHƯƠNG|Chương)[ \t]+(?:[IVXLC]+|\d+)\.?"
    r"|[A-E]\.|\d{1,2}(?:\.\d{1,2})+\.?|\d{1,2}\.|[IVX]+\.)[ \t]+[^\n]{0,120}$"
    # a heading without its number, in capitals on a line of its own (a PDF's text may
    # put "II" on the line above): "NHIỆM VỤ TRỌNG TÂM 6 THÁNG CUỐI NĂM"
    r"|^[ \t]*(?P<caps>[A-ZĐÀ-Ỹ][A-ZĐÀ-Ỹ0-9 ,/()–-]{8,118}[A-ZĐÀ-Ỹ0-9)])[ \t]*$"
)
# a line that ends with a page number after its words (a running head or foot)
_RUNNING_HEAD = re.compile(r"(?P<head>.{10,120}?[^\W\d_])[ \t]+(?:trang[ \t]+)?(?P<n>\d{1,3})")
# a rule of underscores over a page's footnotes, and a footnote's opening number
_FOOTNOTE_RULE = re.compile(r"(?m)^[ \t]*_{5,}[ \t]*$")
_FOOTNOTE = re.compile(r"(?m)^[ \t]*(?P<mark>\d{1,2})[ \t]+(?=[^\W\d_])")
# a line that opens a numbered heading or list item ("3. An toàn thông tin", "II. Nhiệm vụ")
_NUMBERED_LINE = re.compile(r"(?:\d{1,2}|[ivx]{1,4}|[a-z])[.)]\s+[^\W\d_]")
# a line of prose: long, with small letters (a title in capitals is none)
_PROSE_LINE = re.compile(r"(?m)^(?=[^\n]*[a-z][^\n]*[a-z])[^\n]{60,}$")
# the report frequencies whose plans are for the next period of the same frequency
_PLANNED_AHEAD = frozenset({"A", "S", "M"})

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Heading:
    start: int
    end: int
    rank: int  # 0 for "PHẦN II", 1 for "II.", 2 for "1.", 3 for "1.2." and so on


@dataclass(frozen=True, slots=True)
class Future:
    """A section headed as plans for the coming period ("Nhiệm vụ ... thời gian tới")."""

    heading: Span
    start: int
    end: int
    period: str | None


@dataclass(frozen=True, slots=True)
class Doc:
    text: str
    low: str
    lex: Lexicon
    sentence_starts: tuple[int, ...]
    semicolons: tuple[int, ...]
    headings: tuple[Heading, ...]
    heading_starts: tuple[int, ...]
    topics: tuple[tuple[int, str], ...]  # top-level headings: (start, lower-cased title)
    tables: Tables
    periods: tuple[PeriodMention, ...]  # written in the title and the numbers' sentences
    period_starts: tuple[int, ...]
    period: Period  # the report's own
    period_source: str  # how it was found: `periods.ReportPeriod.source`
    published: Period | None  # the publication hint
    scope: str | None  # the report's own area
    code_list: str  # the province code list in force when the report's period ends
    futures: tuple[Future, ...]
    scope_defaulted: bool = False  # no hint, and the text settles no area

    def sentence_of(self, pos: int) -> int:
        return bisect_right(self.sentence_starts, pos) - 1

    def sentence_bounds(self, index: int) -> Span:
        starts = self.sentence_starts
        end = starts[index + 1] if index + 1 < len(starts) else len(self.text)
        return starts[index], end

    def near_start(self, pos: int) -> int:
        """Where the sentence holding `pos` starts, looking back at most `windows.sentence`
        characters (long run-on sentences stay linear)."""
        return max(
            self.sentence_starts[self.sentence_of(pos)], pos - self.lex.integer("windows.sentence")
        )

    def clause_start(self, pos: int) -> int:
        i = bisect_left(self.semicolons, pos) - 1
        sent = self.near_start(pos)
        return max(sent, self.semicolons[i] + 1) if i >= 0 else sent

    def future_at(self, pos: int) -> Future | None:
        return next((f for f in self.futures if f.start <= pos < f.end), None)


def reading_sentences(text: str, low: str, lex: Lexicon) -> tuple[tuple[int, ...], Tables]:
    """Where the sentences the extractor reads start (a table row is one), and the tables."""
    tables = _tables(text, low, lex)
    abbreviations = frozenset(lex.words("document.abbreviations"))
    return _row_sentences(sentence_starts(text, abbreviations), tables.rows), tables


def build_document(
    text: str, lex: Lexicon, *, published: str | None, scope: str | None
) -> Doc | None:
    """The document of NFC `text`; None when it states no period and no hint gives one
    (such a text has no facts)."""
    low = lower(text)
    pages = _outside_tables(text, low, lex, page_numbers(low, lex))
    low = blanked(low, pages)
    starts, tables = reading_sentences(blanked(text, pages), low, lex)
    regions = _number_sentences(text, lex, starts)
    title = (0, min(len(text), lex.integer("document.title_window")))
    periods = tuple(find_periods(low, lex, merge([title, *regions])))
    found = document_period(low, lex, list(periods), published)
    if found is None:
        return None
    own = found.period
    code_list = _code_list(own)
    area = document_area(text, low, lex, scope, code_list)
    headings = _headings(text, _first_prose_line(text))
    return Doc(
        text=text,
        low=low,
        lex=lex,
        sentence_starts=starts,
        semicolons=tuple(m.start() for m in _SEMICOLON.finditer(text)),
        headings=headings,
        heading_starts=tuple(h.start for h in headings),
        topics=tuple((m.start(), m.group(1).strip()) for m in _TOP_HEADING.finditer(low)),
        tables=tables,
        periods=periods,
        period_starts=tuple(p.start for p in periods),
        period=own,
        period_source=found.source,
        published=published_period(published),
        scope=area[0],
        scope_defaulted=area[1] and not scope,
        code_list=code_list,
        futures=_futures(text, low, lex, headings, own),
    )


def page_numbers(low: str, lex: Lexicon) -> list[Span]:
    """The page numbers a PDF's text keeps between paragraphs ("3", "- 3 -", "Trang 3" alone
    on a line between prose lines, even inside a sentence), each with the line break before
    it: blanked out (`blanked`), the sentence they cut reads on ("tăng⏎3⏎5,2%" as
    "tăng⏎5,2%"). A line of one number between short lines is a cell of a table written
    one cell per line and stays."""
    prose = lex.integer("windows.page_neighbour")
    pages = [
        (max(0, m.start() - 1), m.end())
        for m in _page_lines(lex).finditer(low)
        if _between_prose(low, m.start(), m.end(), prose)
    ]
    pages += _running_heads(low)
    return sorted(pages + _footnote_marks(low)) if "___" in low else sorted(pages)


def _running_heads(low: str) -> list[Span]:
    """The page numbers at the end of a running head or foot ("Báo cáo tổng kết năm 2021 -
    Sở ... Nam Định      2"): a line whose words come back on another line with another
    number."""
    found: dict[str, list[Span]] = {}
    start = 0
    for line in low.split("\n"):  # (only lines that end with a digit are tried: a scan of
        tail = line.rstrip(" \t")  # every line start by the pattern cost 5 times as much)
        if tail[-1:].isdigit():
            m = _RUNNING_HEAD.fullmatch(tail)
            if m is not None:
                found.setdefault(m.group("head").strip(), []).append(
                    (start + m.start("n"), start + m.end("n"))
                )
        start += len(line) + 1
    return [span for spans in found.values() if len(spans) > 1 for span in spans]


def _footnote_marks(low: str) -> list[Span]:
    """The numbers that open the footnotes under a rule of underscores ("______" then "1 Theo
    số liệu Cục Thống kê ..."): they number notes, they measure nothing."""
    marks: list[Span] = []
    for rule in _FOOTNOTE_RULE.finditer(low):
        end = low.find("\n\n", rule.end())  # the notes run to the next blank line
        notes = _FOOTNOTE.finditer(low, rule.end(), len(low) if end < 0 else end)
        marks += [note.span("mark") for note in notes]
    return marks


def _outside_tables(text: str, low: str, lex: Lexicon, pages: list[Span]) -> list[Span]:
    """The page numbers that are no table's cell alone on its line (rare: tables are found
    twice only when a page number is)."""
    if not pages:
        return pages
    cells = _tables(text, low, lex)
    return [(a, b) for a, b in pages if cells.cell_at(_last_digit(low, a, b)) is None]


def _last_digit(low: str, a: int, b: int) -> int:
    return max(low.rfind(digit, a, b) for digit in "0123456789")


def blanked(text: str, spans: list[Span]) -> str:
    """`text` with `spans` turned to spaces: the same length, so offsets hold."""
    if not spans:
        return text
    parts, last = [], 0
    for a, b in spans:
        if b <= last:
            continue  # inside a span already blanked
        a = max(a, last)
        parts += [text[last:a], " " * (b - a)]
        last = b
    return "".join([*parts, text[last:]])


@lru_cache(maxsize=4)
def _page_lines(lex: Lexicon) -> re.Pattern[str]:
    return re.compile(rf"(?m)^(?:{lex.pattern('exclude.page_line').pattern})$")


def _between_prose(low: str, a: int, b: int, prose: int) -> bool:
    """The nearest non-blank lines before and after `a`..`b` are prose (at least `prose`
    characters) or the text's ends; or a blank line sets it apart (no table written one
    cell per line leaves one between its cells)."""
    blank_before, blank_after = low[max(0, a - 2) : a] == "\n\n", low[b : b + 2] == "\n\n"
    if blank_before and blank_after:
        return True
    before = low[max(0, a - 4 * prose) : a].rstrip().rsplit("\n", 1)[-1].strip()
    after = low[b : b + 4 * prose].lstrip().split("\n", 1)[0].strip()
    # set apart on one side: on the other, prose or a numbered heading, not a table's cell
    if blank_before and (len(after) >= prose or _NUMBERED_LINE.match(after)):
        return True
    if blank_after and (len(before) >= prose or _NUMBERED_LINE.match(before)):
        return True
    at_start = not low[:a].strip() if not before else False
    at_end = not low[b:].strip() if not after else False
    ok_before = len(before) >= prose or at_start
    ok_after = len(after) >= prose or at_end
    return ok_before and ok_after


def _tables(text: str, low: str, lex: Lexicon) -> Tables:
    names = (
        "unit_header",
        "unit_caption",
        "index_header",
        "column_name",
        "rank_header",
        "wrapped_period",
        "wrapped_line",
        "group_header",
        "group_period",
        "period_column",
        "change_column",
    )
    return find_tables(low, TableWords(*(lex.pattern(f"table.{name}") for name in names)), text)


def _row_sentences(starts: tuple[int, ...], rows: tuple[Span, ...]) -> tuple[int, ...]:
    """A table row written over several lines (one cell per line) is one sentence."""
    if not rows:
        return starts
    inside = {s for a, b in rows for s in starts[bisect_right(starts, a) : bisect_left(starts, b)]}
    return tuple(sorted({a for a, _ in rows}.union(s for s in starts if s not in inside)))


@lru_cache(maxsize=4)  # one text's numbers are read in a row: its answer, kept
def english_digits(low: str, lex: Lexicon) -> bool:
    """More numbers written the English way ("2,684,310", "1,046.7", "8.2%") than the
    Vietnamese way ("2.684.310", "1.046,7", "8,2%"). (Asked only for a number either way
    could write, "2,235 tỷ": scanning every number of a text costs.)"""
    english, vietnamese = (
        lex.pattern("document.english_number"),
        lex.pattern("document.vietnamese_number"),
    )
    votes = 0
    for token in _MARKED_NUMBER.findall(low):
        votes += bool(english.fullmatch(token)) - bool(vietnamese.fullmatch(token))
    return votes > 0


def lower(text: str) -> str:
    """`text` lower-cased, keeping its length (offsets into it hold for the text)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def sentence_starts(text: str, abbreviations: frozenset[str] = frozenset()) -> tuple[int, ...]:
    starts = [0]
    # an abbreviation ends with a capital ("TP.") or, written small, with its own last
    # letter ("Tp."): only a stop after one of those needs the closer look
    tails = frozenset(a[-1] for a in abbreviations)
    for m in _SENTENCE_BREAK.finditer(text):
        end = m.end()
        if end < len(text) and not text[end].isupper() and not _is_break(text, m):
            continue
        before = text[m.start() - 1 : m.start()]
        if (before.isupper() or before in tails) and _abbreviated(text, m, abbreviations):
            continue
        starts.append(end)
    return tuple(starts)


def _abbreviated(text: str, m: re.Match[str], abbreviations: frozenset[str]) -> bool:
    """The stop ends an abbreviation ("TP. Hạ Long", "Tp. Vinh") or an initial glued to the
    next letter ("G.A.P"), not a sentence."""
    if m.group()[0] != ".":
        return False
    word = _LAST_WORD.search(text, max(0, m.start() - 6), m.start())
    if word is None:
        return False
    glued = m.end() == m.start() + 1 and m.end() < len(text) and text[m.end()].isalpha()
    return (len(word.group()) == 1 and glued) or word.group().lower() in abbreviations


def _is_break(text: str, m: re.Match[str]) -> bool:
    """A full stop before a space, or a line end that is not a wrapped line: a line that
    ends in a word or a comma wraps when the next opens with a word, or with a figure after
    a line of prose (a PDF's lines break anywhere: "tăng⏎5,2%")."""
    if m.group()[0] != "\n":
        return m.group()[-1].isspace()
    line = text.rfind("\n", 0, m.start()) + 1
    end = m.start()
    while end > line and text[end - 1] in " \t":
        end -= 1
    before = text[end - 1 : end]
    if not (before.isalnum() or before == ","):
        return True
    after = text[m.end()]
    return not (after.isalpha() or (after.isdigit() and end - line >= _WRAPPED_LINE))


def _number_sentences(text: str, lex: Lexicon, starts: tuple[int, ...]) -> list[Span]:
    """The sentences that hold a number, adjacent ones joined: the only text whose words
    name a metric or a figure's period."""
    return join(_sentences_with_numbers(text, lex, starts))


def _sentences_with_numbers(text: str, lex: Lexicon, starts: tuple[int, ...]) -> Iterator[Span]:
    reached = -1  # the end of the last sentence given: numbers before it add nothing
    for m in lex.pattern("candidate.number").finditer(text):
        if m.start() < reached:
            continue
        i = bisect_right(starts, m.start()) - 1
        reached = starts[i + 1] if i + 1 < len(starts) else len(text)
        yield starts[i], reached


def join(spans: Iterable[Span]) -> list[Span]:
    """Spans given in order of their starts, those that touch or overlap joined."""
    out: list[Span] = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def merge(regions: list[Span]) -> list[Span]:
    """`join` for spans in any order."""
    return join(sorted(regions))


def _code_list(own: Period) -> str:
    """A report on a period ending after the 2025 merger names the 34 provinces of QĐ 19/2025."""
    return code_list_on(own.end)


def _first_prose_line(text: str) -> int:
    """Where the first line of prose ends (the title above it may be all capitals)."""
    found = _PROSE_LINE.search(text)
    return len(text) if found is None else found.end()


def _headings(text: str, after: int) -> tuple[Heading, ...]:
    """The numbered headings, and past `after` (the title) the unnumbered ones in capitals."""
    return tuple(
        Heading(m.start(), m.end(), heading_rank(m.group("number") or ""))
        for m in _HEADING.finditer(text)
        if m.group("number") or (m.start() >= after and m.group("caps").isupper())
    )


def heading_rank(number: str) -> int:
    """0 for "PHẦN II" and "A.", 1 for "II." and a heading in capitals without a number,
    2 for "1.", 3 for "1.2." and so on."""
    if not number:
        return 1
    if number[0].isdigit():
        return 1 + len(number.rstrip(".").split("."))
    return 1 if number[0] in "IVX" else 0


def _futures(
    text: str, low: str, lex: Lexicon, headings: tuple[Heading, ...], own: Period
) -> tuple[Future, ...]:
    """Plan sections, from a plan heading to the next heading of its rank or above (so that
    "II. PHƯƠNG HƯỚNG ... NĂM 2025" covers its "1. Chỉ tiêu chủ yếu" too), each with the
    period it plans. A section headed by the reported period itself ("I. Kết quả thực hiện
    nhiệm vụ năm 2023" in a report on 2023) is no plan."""
    futures: list[Future] = []
    for i, heading in enumerate(headings):
        if not lex.pattern("status.future_heading").search(low, heading.start, heading.end):
            continue
        later = (h.start for h in headings[i + 1 :] if h.rank <= heading.rank)
        span = (heading.start, heading.end)
        planned = _planned_period(low, lex, span, own)
        if planned is not None:
            futures.append(Future(span, heading.end, next(later, len(text)), planned[0]))
    return tuple(futures)


def _planned_period(low: str, lex: Lexicon, heading: Span, own: Period) -> tuple[str | None] | None:
    """The period a plan heading names, else the one after the report's (wrapped); None
    when the heading names the reported period or an earlier one."""
    found = find_periods(low, lex, [heading])
    explicit = next((p for f in found if (p := resolve_period(f, own.year, flow=True))), None)
    if explicit is not None and not explicit.starts_after(own):
        return None
    return (str(explicit) if explicit is not None else next_period(own),)


def next_period(period: Period) -> str | None:
    """The period after a report's own: the plans of an annual report are for next year,
    of a half-year report for the next half, of a monthly report for the next month."""
    return str(period.next()) if period.frequency in _PLANNED_AHEAD else None
