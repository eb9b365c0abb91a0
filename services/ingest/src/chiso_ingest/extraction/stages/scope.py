"""Scope: the area a figure measures, the report's own unless its clause says otherwise.

A change or ratio takes its level's scope. A named commune or district before a level, or
"tại Trung tâm ..." after it, makes it a sub-area's figure ("sub"); a clause whose subject
is the country makes it national ("VN"), or the province the clause names.
"""

from __future__ import annotations

from collections.abc import Iterable

from chiso_ingest.extraction.document import Doc
from chiso_ingest.extraction.mention import Mention
from chiso_ingest.extraction.scope import area_code, province_in
from chiso_ingest.extraction.stages.links import clause_end


def read_scope(doc: Doc, mentions: Iterable[Mention]) -> list[Mention]:
    out: list[Mention] = []
    for m in mentions:
        scope = out[m.parent].scope if m.parent is not None else _own_scope(doc, m)
        out.append(m._replace(scope=scope))
    return out


def _own_scope(doc: Doc, m: Mention) -> str | None:
    scope = "sub" if _is_sub(doc, m) else doc.scope
    if scope not in ("VN", "sub") and _national_subject(doc, m):
        scope = "VN"
    if scope == "VN":
        clause = m.clause
        scope = province_in(doc.text, clause, m.start, doc.code_list) or "VN"
    return scope


def _national_subject(doc: Doc, m: Mention) -> bool:
    """The country is what the figure's clause (or its part after a comma) is about."""
    clause = m.clause
    part = max(clause, doc.low.rfind(",", clause, m.start) + 1)
    return doc.lex.pattern("scope.national_subject").match(doc.low[part : m.start]) is not None


def _is_sub(doc: Doc, m: Mention) -> bool:
    lex = doc.lex
    clause = m.clause
    after = doc.text[m.unit_end : clause_end(doc, m)]
    if lex.pattern("scope.sub_right").match(after):
        return True
    return any(
        area_code(found.group(), doc.code_list) != doc.scope
        for found in lex.pattern("scope.sub").finditer(
            doc.text, max(clause, m.start - lex.integer("windows.governs")), m.start
        )
    )
