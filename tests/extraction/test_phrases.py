"""Catalogue phrasings read loosely, by the `[phrase]` settings of the lexicon data."""

from __future__ import annotations

import re

from chiso_ingest.extraction.indicators import PhraseIndex
from chiso_ingest.extraction.lexicon import Lexicon, data_files, load_lexicon

_TEXT = "thuê bao băng rộng xyz cố định"  # "xyz" is no word of any phrasing: it may be skipped
_CODE = "telecom.broadband_fixed.subscribers"


def _with(setting: str, value: str) -> Lexicon:
    files = data_files()
    files["lexicon.toml"] = re.sub(
        rf"(?m)^{setting} = .*$", f"{setting} = {value}", files["lexicon.toml"]
    )
    return load_lexicon(files)


def _weights(lex: Lexicon | None) -> list[float]:
    found = PhraseIndex(_TEXT, "", [(0, len(_TEXT))], lex).matches
    return [m.weight for m in found if m.phrase.code == _CODE and len(m.phrase.words) == 4]


def test_a_skipped_word_costs_the_gap_cost_of_the_data() -> None:
    assert _weights(None) == [17.0 - 1.5]  # "băng rộng cố định": 17 characters
    assert _weights(_with("gap_cost", "4.0")) == [17.0 - 4.0]


def test_no_word_may_be_skipped_with_a_gap_of_none() -> None:
    assert _weights(_with("max_gap", "0")) == []
