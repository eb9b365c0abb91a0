"""chiso's fact extractor: Vietnamese ICT report prose in, numeric facts out.

A pure library (no web, database or network): `extract` reads one document's text and
returns the facts of ../shared/eval/GUIDELINE.md. Lexicons live in `data/`.
"""

from __future__ import annotations

from chiso_ingest.extraction.engine import run
from chiso_shared.facts import SCOPE_PATTERN, Fact

__all__ = ["EXTRACTOR_VERSION", "extract"]

EXTRACTOR_VERSION = "0.4.0"


def extract(
    text: str, *, doc: str, published: str | None = None, scope: str | None = None
) -> list[Fact]:
    """The facts stated in `text`, sorted by start; never raises.

    `published` ("YYYY", "YYYY-MM" or "YYYY-MM-DD") and `scope` ("VN-38") are hints for
    documents that state neither their period nor their province.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    if scope is not None and not SCOPE_PATTERN.match(scope):
        scope = None
    try:
        return run(text, doc=doc, published=published, scope=scope)
    except Exception:  # the contract: never raise, whatever the input
        return []
