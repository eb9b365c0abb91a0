"""The extractor's lexicons: data files under `data/`, loaded and compiled once.

The data are generic, so a new cue class is a data change only. Every top-level table of
a data file is a section; an entry's name is its dotted path (`role.change_up`). In a
section:

- a string is a pattern, compiled in the section's `style` (default `plain`);
- a table with `pattern` is a pattern with its own `style` and `flags`;
- a table with `any` is the alternation `(?:a)|(?:b)|...` of its strings, each first put
  through `each` (`plain` or `word_start`);
- an array of tables is an ordered rule list: `pattern` (and optionally `style`, `flags`,
  `name`), every other key is what the rule yields; rules are tried in file order;
- an array of strings is a word list, a number is a setting, a table with `map` a mapping;
- any other table is a nested section, which inherits its parent's `style`.

A pattern refers to another entry as `{@name}` (a `{` followed by `@` is no regex syntax):
the reference is replaced by that entry's text before its style is applied; a reference
to an `any` entry or a rule list gives the alternation of its patterns. Style `fragment`
marks a text that only exists to be referred to and is not compiled.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

Pattern = re.Pattern[str]
Number = int | float
Yield = str | int | float

DATA_FILES = ("lexicon.toml", "periods.toml", "doubts.toml")
_REF = re.compile(r"\{@([\w.]+)\}")
_ENTRY_KEYS = ("style", "flags", "each", "name")


class LexiconError(ValueError):
    """A data file of the lexicon is malformed: the message names the file and the key."""


def _tail(pattern: str) -> str:
    """A whole-word pattern that must end where the searched text ends."""
    return f"(?<!\\w)(?:{pattern})$" if not pattern.endswith("$") else f"(?<!\\w){pattern}"


def _word_start(pattern: str) -> str:
    """Cue words start a word; entries that begin with punctuation keep their own rule."""
    return pattern if pattern.startswith(("[", "/", "(?<")) else rf"(?<!\w){pattern}"


# How an entry's text becomes the compiled pattern ("fragment" is not compiled at all).
_STYLES: Mapping[str, Callable[[str], str]] = MappingProxyType(
    {
        "plain": lambda p: p,
        # whole words ending where the searched text ends (the text before a number)
        "tail": _tail,
        # starting at a word boundary ("ước" is not the end of "nước")
        "words": lambda p: f"(?<!\\w)(?:{p})",
        # the whole of the searched text
        "full": lambda p: f"^(?:{p})$",
    }
)
_EACH: Mapping[str, Callable[[str], str]] = MappingProxyType(
    {"plain": lambda p: p, "word_start": _word_start}
)
_FLAGS: Mapping[str, re.RegexFlag] = MappingProxyType(
    {"IGNORECASE": re.IGNORECASE, "MULTILINE": re.MULTILINE, "DOTALL": re.DOTALL}
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One entry of an ordered rule list: what the text yields when `pattern` matches."""

    name: str
    pattern: Pattern
    yields: Mapping[str, Yield]

    def text(self, key: str) -> str:
        return str(self.yields[key])

    def number(self, key: str, default: float | None = None) -> float:
        value = self.yields.get(key, default)
        if value is None or isinstance(value, str):
            raise KeyError(f"quy tắc {self.name} không cho số '{key}' (no number '{key}')")
        return float(value)


@dataclass(frozen=True, slots=True)
class _Source:
    """An entry's unresolved text: one pattern, or the alternatives of `any` / a rule list."""

    file: str
    texts: tuple[str, ...]
    alternation: bool
    each: str = "plain"


@dataclass(frozen=True, slots=True)
class _RuleSource:
    name: str
    text: str
    style: str
    flags: int
    yields: Mapping[str, Yield]


@dataclass(slots=True)
class _Parsed:
    """Everything read from the data files, before references are resolved."""

    sources: dict[str, _Source] = field(default_factory=dict)
    styles: dict[str, tuple[str, int]] = field(default_factory=dict)
    rules: dict[str, tuple[_RuleSource, ...]] = field(default_factory=dict)
    numbers: dict[str, Number] = field(default_factory=dict)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    mappings: dict[str, Mapping[str, Yield]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def claim(self, file: str, name: str) -> None:
        if name in self.files:
            raise LexiconError(
                f"{file}: '{name}' đã có trong {self.files[name]} (duplicate name '{name}')"
            )
        self.files[name] = file


def _style(file: str, name: str, style: object) -> str:
    if style != "fragment" and style not in _STYLES:
        raise LexiconError(f"{file} [{name}]: kiểu '{style}' không có (unknown style)")
    return str(style)


def _flags(file: str, name: str, names: object) -> int:
    if not isinstance(names, list) or any(n not in _FLAGS for n in names):
        raise LexiconError(f"{file} [{name}]: cờ không hợp lệ {names!r} (unknown flags)")
    value = 0
    for flag in names:
        value |= _FLAGS[flag]
    return value


def _rule(file: str, name: str, index: int, entry: dict[str, Any], style: str) -> _RuleSource:
    where = f"{name}[{index}]"
    text = entry.get("pattern")
    if not isinstance(text, str):
        raise LexiconError(f"{file} [{where}]: quy tắc thiếu 'pattern' (rule has no pattern)")
    yields = {k: v for k, v in entry.items() if k not in ("pattern", *_ENTRY_KEYS)}
    if any(isinstance(v, bool) or not isinstance(v, str | int | float) for v in yields.values()):
        raise LexiconError(f"{file} [{where}]: giá trị không hợp lệ (yields must be scalars)")
    return _RuleSource(
        name=str(entry.get("name", where)),
        text=text,
        style=_style(file, where, entry.get("style", style)),
        flags=_flags(file, where, entry.get("flags", [])),
        yields=MappingProxyType(yields),
    )


def _table_entry(parsed: _Parsed, file: str, name: str, value: dict[str, Any], style: str) -> bool:
    """A table that is one entry (`pattern`, `any` or `map`); False for a nested section."""
    if "pattern" in value or "any" in value or "map" in value:
        parsed.claim(file, name)
    if "pattern" in value or "any" in value:
        texts = value["any"] if "any" in value else [value["pattern"]]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise LexiconError(f"{file} [{name}]: mẫu phải là chuỗi (patterns must be strings)")
        each = str(value.get("each", "plain"))
        if each not in _EACH:
            raise LexiconError(f"{file} [{name}]: 'each' không hợp lệ (unknown each '{each}')")
        parsed.sources[name] = _Source(file, tuple(texts), "any" in value, each)
        parsed.styles[name] = (
            _style(file, name, value.get("style", style)),
            _flags(file, name, value.get("flags", [])),
        )
        return True
    if "map" in value:
        mapping = value["map"]
        if not isinstance(mapping, dict) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in mapping.values()
        ):
            raise LexiconError(f"{file} [{name}]: 'map' phải là bảng giá trị (map of scalars)")
        parsed.mappings[name] = MappingProxyType(dict(mapping))
        return True
    return False


def _array(parsed: _Parsed, file: str, name: str, value: list[Any], style: str) -> None:
    if all(isinstance(v, str) for v in value):
        parsed.words[name] = tuple(value)
    elif all(isinstance(v, dict) for v in value):
        rules = tuple(_rule(file, name, i, v, style) for i, v in enumerate(value))
        parsed.rules[name] = rules
        parsed.sources[name] = _Source(file, tuple(r.text for r in rules), alternation=True)
    else:
        raise LexiconError(f"{file} [{name}]: danh sách lẫn kiểu (mixed list)")


def _section(parsed: _Parsed, file: str, prefix: str, table: dict[str, Any], style: str) -> None:
    style = _style(file, prefix, table.get("style", style))
    for key, value in table.items():
        name = f"{prefix}.{key}"
        if key == "style":
            continue
        if isinstance(value, dict):
            if not _table_entry(parsed, file, name, value, style):
                _section(parsed, file, name, value, style)
            continue
        parsed.claim(file, name)
        if isinstance(value, str):
            parsed.sources[name] = _Source(file, (value,), alternation=False)
            parsed.styles[name] = (style, 0)
        elif isinstance(value, list):
            _array(parsed, file, name, value, style)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            parsed.numbers[name] = value
        else:
            raise LexiconError(f"{file} [{name}]: giá trị không hợp lệ (unsupported value)")


def _parse(files: Mapping[str, str]) -> _Parsed:
    parsed = _Parsed()
    for file, text in files.items():
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LexiconError(f"{file}: TOML không hợp lệ (invalid TOML): {exc}") from exc
        for key, value in document.items():
            if not isinstance(value, dict):
                raise LexiconError(f"{file}: '{key}' phải nằm trong một bảng (not in a section)")
            _section(parsed, file, key, value, "plain")
    return parsed


class _Resolver:
    """Expands `{@name}` references, with cycle detection; lives for one load only."""

    def __init__(self, sources: Mapping[str, _Source]) -> None:
        self._sources = sources
        self._done: dict[str, str] = {}

    def entry(self, name: str, stack: tuple[str, ...] = ()) -> str:
        """The text an entry stands for where it is referred to."""
        if name in self._done:
            return self._done[name]
        source = self._sources[name]
        if name in stack:
            cycle = " -> ".join((*stack[stack.index(name) :], name))
            raise LexiconError(f"{source.file} [{name}]: tham chiếu vòng {cycle} (cycle)")
        texts = [self.text(source.file, name, t, (*stack, name)) for t in source.texts]
        each = _EACH[source.each]
        done = "|".join(f"(?:{each(t)})" for t in texts) if source.alternation else texts[0]
        self._done[name] = done
        return done

    def text(self, file: str, name: str, text: str, stack: tuple[str, ...] = ()) -> str:
        """`text` with its references expanded; `name` is where it is written."""

        def expand(m: re.Match[str]) -> str:
            if m.group(1) not in self._sources:
                raise LexiconError(
                    f"{file} [{name}]: tham chiếu {m.group()} không có "
                    f"(unknown reference {m.group()})"
                )
            return self.entry(m.group(1), stack or (name,))

        return _REF.sub(expand, text)


def _compile(file: str, name: str, text: str, style: str, flags: int) -> Pattern:
    try:
        return re.compile(_STYLES[style](text), flags)
    except re.error as exc:
        raise LexiconError(f"{file} [{name}]: mẫu không hợp lệ (invalid regex): {exc}") from exc


class Lexicon:
    """The compiled lexicon, read by name: `lex.pattern("role.change_up")`.

    Lookups are one dict access, cheap enough for the engine's loops; a name that is not
    in the data raises KeyError naming it (`require` checks a whole list at once).
    """

    # Plain dicts, private and never changed after construction: a lookup in one is about
    # twice as fast as through a MappingProxyType, and the stages look names up in loops.
    __slots__ = ("_integers", "_mappings", "_numbers", "_patterns", "_rules", "_words")

    def __init__(
        self,
        patterns: Mapping[str, Pattern],
        rules: Mapping[str, tuple[Rule, ...]],
        numbers: Mapping[str, Number],
        words: Mapping[str, tuple[str, ...]],
        mappings: Mapping[str, Mapping[str, Yield]],
    ) -> None:
        self._patterns = dict(patterns)
        self._rules = dict(rules)
        self._numbers = dict(numbers)
        self._integers = {k: v for k, v in numbers.items() if isinstance(v, int)}
        self._words = dict(words)
        self._mappings = dict(mappings)

    def _kinds(self) -> Mapping[str, Mapping[str, object]]:
        return {
            "pattern": self._patterns,
            "rules": self._rules,
            "number": self._numbers,
            "words": self._words,
            "mapping": self._mappings,
        }

    def _missing(self, kind: str, name: str) -> KeyError:
        found = [k for k, table in self._kinds().items() if name in table]
        hint = f"; '{name}' là {found[0]} (is a {found[0]})" if found else ""
        return KeyError(f"từ điển không có {kind} '{name}' (lexicon has no {kind} '{name}'){hint}")

    def pattern(self, name: str) -> Pattern:
        try:
            return self._patterns[name]
        except KeyError:
            raise self._missing("pattern", name) from None

    def rules(self, name: str) -> tuple[Rule, ...]:
        try:
            return self._rules[name]
        except KeyError:
            raise self._missing("rules", name) from None

    def number(self, name: str) -> Number:
        try:
            return self._numbers[name]
        except KeyError:
            raise self._missing("number", name) from None

    def integer(self, name: str) -> int:
        """A setting that must be a whole number (a window size, a count of words)."""
        try:
            return self._integers[name]
        except KeyError:
            value = self.number(name)  # raises KeyError when there is no such setting
        raise TypeError(f"'{name}' không phải số nguyên (is not an integer): {value!r}")

    def words(self, name: str) -> tuple[str, ...]:
        try:
            return self._words[name]
        except KeyError:
            raise self._missing("words", name) from None

    def mapping(self, name: str) -> Mapping[str, Yield]:
        try:
            return self._mappings[name]
        except KeyError:
            raise self._missing("mapping", name) from None

    def names(self, kind: str) -> frozenset[str]:
        """Every name of one kind (`pattern`, `rules`, `number`, `words`, `mapping`)."""
        return frozenset(self._kinds()[kind])

    def require(self, kind: str, names: Iterable[str]) -> None:
        """Fail at once, naming all of them, when some of `names` are not in the data."""
        missing = sorted(set(names) - self.names(kind))
        if missing:
            names_ = ", ".join(missing)
            raise KeyError(f"từ điển thiếu {kind}: {names_} (lexicon lacks {kind}: {names_})")


def _compiled_rules(parsed: _Parsed, resolver: _Resolver, name: str) -> tuple[Rule, ...]:
    file = parsed.sources[name].file
    return tuple(
        Rule(
            name=r.name,
            pattern=_compile(
                file, r.name, resolver.text(file, r.name, r.text, (name,)), r.style, r.flags
            ),
            yields=r.yields,
        )
        for r in parsed.rules[name]
    )


def load_lexicon(files: Mapping[str, str]) -> Lexicon:
    """The lexicon of data files given as {file name: TOML text}, all in one namespace."""
    parsed = _parse(files)
    resolver = _Resolver(parsed.sources)
    patterns: dict[str, Pattern] = {}
    for name, (style, flags) in parsed.styles.items():
        text = resolver.entry(name)  # fragments too: a broken reference fails at load
        if style != "fragment":
            patterns[name] = _compile(parsed.sources[name].file, name, text, style, flags)
    rules = {name: _compiled_rules(parsed, resolver, name) for name in parsed.rules}
    return Lexicon(patterns, rules, parsed.numbers, parsed.words, parsed.mappings)


def data_files() -> dict[str, str]:
    """The packaged data files, {file name: TOML text}."""
    folder = resources.files(__package__).joinpath("data")
    return {name: folder.joinpath(name).read_text(encoding="utf-8") for name in DATA_FILES}


@cache  # the one lexicon of the package, compiled once per process (immutable)
def lexicon() -> Lexicon:
    return load_lexicon(data_files())
