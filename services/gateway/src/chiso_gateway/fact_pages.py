"""Pages of a document's facts. Ingest answers a document's facts all at once; the gateway
serves them in pages, in text order, with an opaque cursor.

The cursor is a place in the text, not an offset into a list: `[start, end, skip]`, the span
of the next fact to serve and how many facts of that same span were already served. A fact
reviewed or re-extracted between two pages then moves no other fact across the page edge,
and facts that share a span are neither skipped nor served twice.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from chiso_shared.pagination import decode_cursor, encode_cursor

Span = tuple[int, int]
# [start, end, skip]: see the module's docstring
Position = tuple[int, int, int]


def _span(fact: dict[str, Any]) -> Span:
    return int(fact.get("start", 0)), int(fact.get("end", 0))


def decoded(cursor: str | None) -> Position | None:
    """The position a cursor holds, None for the first page; 400 for one not issued here."""
    if cursor is None:
        return None
    start, end, skip = decode_cursor(cursor, kinds=(int, int, int), code="gateway.bad_cursor")
    return start, end, skip


def fact_page(
    facts: list[dict[str, Any]], limit: int, position: Position | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The page of `facts` (in text order) that starts at `position`, and the cursor of the
    next page (None after the last)."""
    ordered = sorted(facts, key=_span)  # stable: facts of one span keep ingest's order
    spans = [_span(fact) for fact in ordered]
    first = 0
    if position is not None:
        start, end, skip = position
        # never past that span's facts: some may have gone since (a review rejected one)
        first = min(
            bisect_left(spans, (start, end)) + max(skip, 0), bisect_right(spans, (start, end))
        )
    following = first + limit
    page = ordered[first:following]
    if following >= len(ordered):
        return page, None
    upcoming = spans[following]
    served = following - bisect_left(spans, upcoming)  # facts of that span already served
    return page, encode_cursor([*upcoming, served])
