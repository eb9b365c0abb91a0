"""The generic lexicon: named patterns, references, rule lists and settings, all from data."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from chiso_ingest.extraction import lexicon as lexicon_module
from chiso_ingest.extraction.lexicon import Lexicon, LexiconError, data_files, lexicon, load_lexicon

_SAMPLE = r"""
[fragment]
style = "fragment"
so_voi = 'so\s+với'
so_voi_ck = '{@fragment.so_voi}\s+cùng\s+kỳ'

[cue]
plain = '(?:tăng|giảm)'
rise = { pattern = '{@cue.plain}\s+{@fragment.so_voi_ck}', style = "words" }

[tailing]
style = "tail"
up = 'tăng'
also_plain = { pattern = 'tăng', style = "plain" }
first = { any = ['số', '/x'], each = "word_start", style = "plain" }
limit = 8
share = 0.5
names = ["ba", "sáu"]
counts = { map = { "ba" = 3, "sáu" = 6 } }

[grade]
steps = [
    { pattern = 'cao', level = "high", weight = 3 },
    { pattern = 'thấp', level = "low", style = "tail" },
    { pattern = 'vừa', level = "mid", name = "middle" },
]
any_step = '^(?:{@grade.steps})$'
"""


def _load(text: str = _SAMPLE, name: str = "sample.toml") -> Lexicon:
    return load_lexicon({name: text})


def test_references_resolve_recursively_before_the_style() -> None:
    lex = _load()
    assert lex.pattern("cue.rise").pattern == r"(?<!\w)(?:(?:tăng|giảm)\s+so\s+với\s+cùng\s+kỳ)"
    assert lex.pattern("cue.rise").search("doanh thu tăng so với cùng kỳ")
    assert not lex.pattern("cue.rise").search("nướctăng so với cùng kỳ")


def test_a_reference_to_a_rule_list_is_the_alternation_of_its_patterns() -> None:
    assert _load().pattern("grade.any_step").pattern == "^(?:(?:cao)|(?:thấp)|(?:vừa))$"


def test_fragments_are_only_referred_to() -> None:
    with pytest.raises(KeyError, match="fragment.so_voi"):
        _load().pattern("fragment.so_voi")


def test_the_style_comes_from_the_data() -> None:
    lex = _load()
    assert lex.pattern("tailing.up").pattern == r"(?<!\w)(?:tăng)$"
    assert lex.pattern("tailing.up").search("số thuê bao tăng")
    assert not lex.pattern("tailing.up").search("tăng thêm")
    assert lex.pattern("tailing.also_plain").pattern == "tăng"
    assert lex.pattern("tailing.first").pattern == r"(?:(?<!\w)số)|(?:/x)"


def test_settings_words_and_mappings() -> None:
    lex = _load()
    assert lex.integer("tailing.limit") == 8
    assert lex.number("tailing.share") == 0.5
    with pytest.raises(TypeError, match="tailing.share"):
        lex.integer("tailing.share")
    assert lex.words("tailing.names") == ("ba", "sáu")
    assert dict(lex.mapping("tailing.counts")) == {"ba": 3, "sáu": 6}


def test_rules_keep_the_file_order_and_what_they_yield() -> None:
    rules = _load().rules("grade.steps")
    assert [r.text("level") for r in rules] == ["high", "low", "mid"]
    assert [r.name for r in rules] == ["grade.steps[0]", "grade.steps[1]", "middle"]
    assert rules[0].number("weight") == 3.0
    assert rules[1].number("weight", 1.0) == 1.0
    assert rules[1].pattern.pattern == r"(?<!\w)(?:thấp)$"
    with pytest.raises(KeyError, match="weight"):
        rules[2].number("weight")


def test_an_unknown_reference_names_the_file_and_the_key() -> None:
    text = "[cue]\nrise = 'tăng\\s+{@fragment.so_vi}'\n"
    with pytest.raises(LexiconError, match=r"bad\.toml \[cue\.rise\].*\{@fragment\.so_vi\}"):
        _load(text, "bad.toml")


def test_an_unknown_reference_in_a_rule_names_the_rule() -> None:
    text = "[units]\nordered = [{ pattern = '{@nothing}', unit = 'x' }]\n"
    with pytest.raises(LexiconError, match=r"bad\.toml \[units\.ordered\[0\]\]"):
        _load(text, "bad.toml")


def test_a_reference_cycle_is_reported_with_its_path() -> None:
    text = "[a]\nx = '1{@a.y}'\ny = '2{@a.z}'\nz = '3{@a.x}'\n"
    with pytest.raises(LexiconError, match=r"loop\.toml .*a\.x -> a\.y -> a\.z -> a\.x"):
        _load(text, "loop.toml")


def test_a_rule_list_that_refers_to_itself_is_a_cycle() -> None:
    text = "[a]\nr = [{ pattern = 'x{@a.r}', k = 'v' }]\n"
    with pytest.raises(LexiconError, match="a.r -> a.r"):
        _load(text)


def test_a_name_defined_twice_across_files_is_refused() -> None:
    with pytest.raises(LexiconError, match="two.toml: 'cue.up'.*one.toml"):
        load_lexicon({"one.toml": "[cue]\nup = 'a'\n", "two.toml": "[cue]\nup = 'b'\n"})


def test_malformed_entries_are_refused() -> None:
    with pytest.raises(LexiconError, match="bad.toml \\[cue.up\\].*style"):
        _load("[cue]\nup = { pattern = 'a', style = 'tails' }\n", "bad.toml")
    with pytest.raises(LexiconError, match="invalid regex"):
        _load("[cue]\nup = '(a'\n")
    with pytest.raises(LexiconError, match="pattern"):
        _load("[cue]\nr = [{ unit = 'x' }]\n")


def test_an_unknown_name_raises_a_clear_key_error() -> None:
    lex = _load()
    with pytest.raises(KeyError, match="lexicon has no pattern 'cue.rsie'"):
        lex.pattern("cue.rsie")
    with pytest.raises(KeyError, match="'grade.steps' là rules"):
        lex.pattern("grade.steps")
    with pytest.raises(KeyError, match="cue.nope, grade.none"):
        lex.require("pattern", ["cue.rise", "grade.none", "cue.nope"])
    lex.require("rules", ["grade.steps"])


def test_a_new_cue_class_is_data_only() -> None:
    """A new rule list in a new file, and a new unit rule: no Python changes."""
    files = data_files()
    files["lexicon.toml"] = files["lexicon.toml"].replace(
        "ordered = [\n", "ordered = [\n    { pattern = '^\\s*thuê\\s+bao', unit = \"other\" },\n", 1
    )
    files["extra.toml"] = (
        "[speed]\nstyle = 'tail'\n"
        "cues = [{ pattern = 'tốc\\s+độ', kind = 'speed' }, { pattern = '{@fragment.so_voi}', "
        "kind = 'basis' }]\n"
    )
    lex = load_lexicon(files)
    first = lex.rules("units.ordered")[0]
    assert first.text("unit") == "other" and first.pattern.match(" thuê bao di động")
    kinds = [r.text("kind") for r in lex.rules("speed.cues") if r.pattern.search("tăng so với")]
    assert kinds == ["basis"]


# What the extraction code asks the lexicon for: `lex.<accessor>("name")` with a literal name.
_ACCESSORS = ("pattern", "rules", "number", "integer", "words", "mapping")
_KIND = {"integer": "number"}


def _asked_names() -> list[tuple[str, str]]:
    folder = Path(lexicon_module.__file__).parent
    asked: list[tuple[str, str]] = []
    for source in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _ACCESSORS
                and re.search(r"\blex$", ast.unparse(node.func.value))
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                asked.append((_KIND.get(node.func.attr, node.func.attr), str(node.args[0].value)))
    return asked


def test_every_name_the_extractor_asks_for_is_in_the_data() -> None:
    asked = _asked_names()
    assert len(asked) > 60  # the scan finds the engine's calls (it would pass if it found none)
    lex = lexicon()
    for kind in {kind for kind, _ in asked}:
        lex.require(kind, [name for k, name in asked if k == kind])
    lex.integer("item.max_words")


def test_an_anchored_period_rule_finds_what_a_full_scan_finds() -> None:
    """A rule's `anchor` only spares work: on text that holds each rule's matches (our own
    sentences), the anchored scan yields exactly the spans `finditer` yields."""
    from chiso_ingest.extraction.periods import _anchored, _Anchors

    text = (
        "tính đến ngày 30/9/2024, lũy kế 9 tháng đầu năm đạt 12 tỷ; đến hết tháng 10 có 3 "
        "trạm; trong giai đoạn 2021–2025 và trong 3 năm 2021, 2022, 2023; cả giai đoạn; "
        "đến hết năm 2025; dti 2023 xếp thứ 5; đến nay, hiện nay; đến cuối năm, có 4; sáu "
        "tháng cuối năm; 6 tháng năm 2024; tại ngày 1/1/2024; suốt 2 năm qua; đến ngày 20/8 có 5; "
        "cột 6t/2019 và 12t/2020; từ đầu năm đến ngày 20/10/2021 có 7"
    )
    rules = [r for r in lexicon().rules("period.rules") if "anchor" in r.yields]
    assert len(rules) >= 5
    for rule in rules:
        places = _Anchors(text, 0, len(text)).places(str(rule.yields["anchor"]))
        back = int(rule.number("back"))
        full = [m.span() for m in rule.pattern.finditer(text)]
        fast = [m.span() for m in _anchored(rule.pattern, text, [(0, len(text))], places, back)]
        assert full, f"the text holds no match of {rule.text('kind')}: the test would prove nothing"
        assert fast == full, rule.text("kind")
