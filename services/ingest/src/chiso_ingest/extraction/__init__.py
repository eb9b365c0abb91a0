"""chiso's fact extractor: Vietnamese ICT report prose in, numeric facts out.

A pure library (no web, database or network): `extract` reads one document's text and
returns the facts of ../shared/eval/GUIDELINE.md. Lexicons live in `data/`.
"""

from __future__ import annotations

from bisect import bisect_right

from chiso_ingest.extraction.document import lower, reading_sentences
from chiso_ingest.extraction.lexicon import lexicon as shared_lexicon
from chiso_ingest.extraction.pipeline import CANDIDATES_PER_FACT, TooManyFacts, run
from chiso_shared.facts import SCOPE_PATTERN, Fact

__all__ = (
    "CANDIDATES_PER_FACT",
    "EXTRACTOR_VERSION",
    "TooManyFacts",
    "extract",
    "fact_limit",
    "sentence_around",
)

EXTRACTOR_VERSION = "0.8.0"


def extract(
    text: str,
    *,
    doc: str,
    published: str | None = None,
    scope: str | None = None,
    max_facts: int | None = None,
) -> list[Fact]:
    """The facts stated in `text`, sorted by start; raises nothing but `TooManyFacts`.

    `published` ("YYYY", "YYYY-MM" or "YYYY-MM-DD") and `scope` ("VN-38") are hints for
    documents that state neither their period nor their province. With `max_facts`, a text
    that gives more facts raises `TooManyFacts` instead of returning them; reading stops
    early, after `CANDIDATES_PER_FACT` times as many numbers, so a text of bare numbers
    costs little. Without it there is no bound.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    if scope is not None and not SCOPE_PATTERN.match(scope):
        scope = None
    try:
        return run(text, doc=doc, published=published, scope=scope, max_facts=max_facts)
    except TooManyFacts:
        raise
    except Exception:  # the contract: never raise otherwise, whatever the input
        return []


def fact_limit(chars: int, max_facts: int, max_facts_per_1000_chars: int) -> int:
    """The most facts a text of `chars` characters may give: `max_facts`, and no more than
    `max_facts_per_1000_chars` for each started thousand characters."""
    thousands = max(1, -(-chars // 1000))
    return min(max_facts, max_facts_per_1000_chars * thousands)


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence of NFC `text` that holds the span [start, end), as the extractor reads
    sentences (a table row is one): its start and end offsets. A span that runs over several
    sentences gets all of them."""
    starts, _ = reading_sentences(text, lower(text), shared_lexicon())
    first = starts[bisect_right(starts, start) - 1]
    following = bisect_right(starts, max(start, end - 1))
    last = starts[following] if following < len(starts) else len(text)
    return first, last
