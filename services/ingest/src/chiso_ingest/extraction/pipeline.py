"""The pipeline: build the document, run the stages in order, turn mentions into facts."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable
from functools import partial

from chiso_ingest.extraction.document import Doc, build_document
from chiso_ingest.extraction.lexicon import lexicon
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.stages.doubts import read_doubts
from chiso_ingest.extraction.stages.indicator import read_indicator
from chiso_ingest.extraction.stages.label import read_label
from chiso_ingest.extraction.stages.links import link
from chiso_ingest.extraction.stages.numbers import (
    TooManyFacts,
    drop_footnote_marks,
    drop_identifiers,
    find_numbers,
    merge_fields,
    merge_ranges,
    read_values,
)
from chiso_ingest.extraction.stages.period import read_basis_period, read_period
from chiso_ingest.extraction.stages.roles import read_roles
from chiso_ingest.extraction.stages.scope import read_scope
from chiso_ingest.extraction.stages.status import read_status
from chiso_shared.facts import DoubtCode, Fact, Unit

Stage = Callable[[Doc, Iterable[Mention]], Iterable[Mention]]

# Numbers read as candidates per allowed fact before reading stops: some candidates give no
# fact (in the seed reports up to 1.6 per fact), so this bounds the work and memory a hostile
# text of bare numbers costs without refusing a document whose facts fit.
CANDIDATES_PER_FACT = 4
# the field limits of `Fact`
_MAX_DOC_NAME, _MAX_TEXT, _MAX_ITEM, _MAX_LABEL = 512, 200, 500, 2000

__all__ = ("CANDIDATES_PER_FACT", "Stage", "TooManyFacts", "run", "stages")


def stages(max_facts: int | None = None) -> tuple[Stage, ...]:
    """The stages in the order they run. With `max_facts`, reading stops past
    `CANDIDATES_PER_FACT` times as many numbers."""
    ceiling = None if max_facts is None else max_facts * CANDIDATES_PER_FACT
    return (
        find_numbers,
        drop_identifiers,
        partial(read_values, ceiling=ceiling, limit=max_facts or 0),
        read_roles,
        merge_ranges,
        merge_fields,
        drop_footnote_marks,
        link,
        read_status,
        read_period,
        read_basis_period,
        read_indicator,
        read_scope,
        read_label,
        read_doubts,
    )


def run(
    text: str,
    *,
    doc: str,
    published: str | None,
    scope: str | None,
    max_facts: int | None = None,
) -> list[Fact]:
    text = unicodedata.normalize("NFC", text)
    document = build_document(text, lexicon(), published=published, scope=scope)
    if document is None:
        return []
    mentions: Iterable[Mention] = ()
    for stage in stages(max_facts):
        mentions = stage(document, mentions)
    facts = [f for m in mentions if (f := _to_fact(document, m, doc)) is not None]
    if max_facts is not None and len(facts) > max_facts:
        raise TooManyFacts(len(facts), max_facts, counting_stopped=False)
    facts.sort(key=lambda f: f.start)
    return facts


def _to_fact(doc: Doc, m: Mention, name: str) -> Fact | None:
    if not name or not math.isfinite(m.value):
        return None
    try:
        return Fact(
            doc=name[:_MAX_DOC_NAME],
            start=m.start,
            end=m.end,
            text=doc.text[m.start : m.end][:_MAX_TEXT],
            value=m.value,
            unit=m.unit,
            item=m.item[:_MAX_ITEM] if m.item and m.unit is Unit.count else None,
            role=m.role,
            basis=m.basis,
            of=m.of,
            max=m.max,
            period=m.period or str(doc.period),
            status=m.status,
            indicator=m.indicator,
            scope=m.scope,
            label=m.label[:_MAX_LABEL] if m.label else None,
            doubts=[DoubtCode(d) for d in m.doubts],
            confidence=m.confidence,
        )
    except ValueError:
        return None
