"""What indicators holds for a document: its effective facts, how each is keyed as a source,
and the document's metadata sent with them.

The effective facts are the facts of the document's current extractor version with the
current reviews applied: an accepted, corrected or added fact is the review's fact (with its
`review` mark), a rejected one is gone. Every delivery (an extraction, a re-extraction, a
review) sends the difference between what indicators held and the new effective facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from chiso_ingest.db.models import Document


class CurrentReview(Protocol):
    """What applying a review needs: its span start and the fact as reviewed (None: rejected)."""

    start: int
    fact: dict[str, Any] | None


def effective(
    machine: Iterable[dict[str, Any]], reviews: Iterable[CurrentReview]
) -> list[dict[str, Any]]:
    """The effective facts (GUIDELINE JSON) in start order.

    A review's fact stands whatever a later extractor version reads at its span (or whether
    it reads anything there): a person's word is not undone by a new version. A span is its
    start; the extractor gives one fact per start, and should it give more, a review of the
    start stands for them all."""
    reviewed = {review.start: review.fact for review in reviews}
    kept = [data for data in machine if data["start"] not in reviewed]
    kept.extend(fact for fact in reviewed.values() if fact is not None)
    return sorted(kept, key=lambda data: int(data["start"]))  # stable: ties keep their order


# What makes a fact one source of one value in indicators: where it is in the document, the
# series and period it belongs to, the value, and who reviewed it. A label or item worded
# differently by a new version is the same source, so it is neither withdrawn nor sent again;
# a review mark is not (a source that gains one is withdrawn and sent again, marked).
SOURCE_FIELDS = (
    "start",
    "indicator",
    "scope",
    "period",
    "role",
    "basis",
    "unit",
    "status",
    "value",
    "of",
    "max",
)


def source_key(data: dict[str, Any]) -> tuple[Any, ...]:
    review = data.get("review")
    mark = (review["action"], review["by"], review["at"]) if review else None
    return (*(data.get(field) for field in SOURCE_FIELDS), mark)


def document_meta(document: Document, extractor_version: str | None) -> dict[str, Any]:
    """The document as indicators' `DocumentMeta` takes it."""
    return {
        "id": document.id,
        "name": document.filename,
        "title": document.title,
        "source_url": document.source_url,
        "issuer": document.issuer,
        "published": document.published,
        "extractor_version": extractor_version,
    }
