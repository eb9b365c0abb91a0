"""Label: the words that name a figure, as the report writes them.

A level's label is its segment's text before it, trimmed of cue words, else the words
after it; a table cell's is its row's label. A change or ratio is labelled by its level's
label followed by its own words; in a table, by its level's alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.lexicon import Lexicon
from chiso_ingest.extraction.mention import Mention
from chiso_shared.facts import Role


def read_label(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    out: list[Mention] = []
    for m in mentions:
        own = _own_label(doc, m)
        if m.parent is not None:
            own = " ".join(x for x in (out[m.parent].label, own) if x) or None
        out.append(m.evolve(label=own))
    return out


def _own_label(doc: Doc, m: Mention) -> str | None:
    lex = doc.lex
    cell = m.cell
    if cell is not None and cell.row_label is not None:
        if m.role is not Role.level:
            return None  # a change or ratio takes the label of its level
        return _trim(lex, doc.text[slice(*cell.row_label)]) or None
    label = _trim(lex, doc.text[m.seg_start : m.start])
    if not label:
        label = _trim(lex, doc.text[m.unit_end : m.right_end])
    if not label:
        return None
    if len(label) > lex.integer("label.max_chars"):
        cut = label[-lex.integer("label.max_chars") :]
        label = cut[cut.find(" ") + 1 :] if " " in cut else cut
    return label


def _trim(lex: Lexicon, text: str) -> str:
    low = text.lower()
    head = lex.pattern("label.trim_head").match(low)
    a = head.end() if head else 0
    tail = lex.pattern("label.trim_tail").search(
        low, max(a, len(low) - lex.integer("windows.label_trim"))
    )
    b = tail.start() if tail else len(text)
    return " ".join(text[a:b].split())
