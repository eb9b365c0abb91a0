"""Every fact field, pinned on documents written for this project.

The cases check the fields that matter for one behaviour; this file pins everything the
extractor says about the sample reports (src/chiso/samples) and about every case's text,
so that a refactor that should change nothing can be shown to change nothing, and a rule
change shows all it changes. After an intended change, regenerate the file and read the diff:

    CHISO_UPDATE_GOLDEN=1 ./scripts/test tests/extraction/test_golden.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

from chiso_ingest.extraction import extract
from tests.extraction.case_files import load_cases

GOLDEN = Path(__file__).parent / "golden" / "facts.jsonl"
SAMPLES = Path(__file__).resolve().parents[2] / "src" / "chiso" / "samples"


def _documents() -> list[tuple[str, str, str | None, str | None]]:
    """(name, text, published, scope) of each document, in a stable order."""
    docs: list[tuple[str, str, str | None, str | None]] = [
        (path.name, path.read_text(encoding="utf-8"), None, None)
        for path in sorted(SAMPLES.glob("*.txt"))
    ]
    for loaded in load_cases():
        case = loaded.case
        docs.append((f"case:{case.name}", loaded.document, case.published, case.scope))
    return docs


def _lines() -> list[str]:
    lines: list[str] = []
    for name, text, published, scope in _documents():
        for fact in extract(text, doc=name, published=published, scope=scope):
            lines.append(json.dumps(fact.to_jsonl_dict(), ensure_ascii=False))
    return lines


def test_the_documents_cover_samples_and_cases() -> None:
    names = [name for name, *_ in _documents()]
    assert sum(not n.startswith("case:") for n in names) >= 4
    assert sum(n.startswith("case:") for n in names) >= 100


def test_facts_are_as_pinned() -> None:
    lines = _lines()
    if os.environ.get("CHISO_UPDATE_GOLDEN"):
        GOLDEN.write_text("\n".join(lines) + "\n", encoding="utf-8")
    pinned = GOLDEN.read_text(encoding="utf-8").splitlines()
    diff = list(difflib.unified_diff(pinned, lines, "pinned", "now", lineterm="", n=0))
    assert not diff, "\n".join(diff[:60])
