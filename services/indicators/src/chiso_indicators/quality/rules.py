"""The rule book: every data-quality rule, its messages and its numbers, read from data.

`data/rules.toml` holds the rules (see its header); this module only reads and checks it, so
a threshold or a message changes without touching code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "SEVERITIES", "RuleBook", "Rule", "RuleBookError", "load_book"]

SEVERITIES = ("error", "warning", "info")
# The generic checks the engine runs; each rule names one.
KINDS = (
    "stated_against_levels",
    "parts_of_whole",
    "disagreement",
    "bounds",
    "jump",
    "implied_population",
)


class RuleBookError(ValueError):
    """The rule data is malformed: says which rule and what is wrong."""


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    kind: str
    severity: str
    message_vi: str
    message_en: str
    params: Mapping[str, Any] = field(default_factory=dict)
    # further templates a kind may use, by name (e.g. "pair_message" -> (vi, en))
    messages: Mapping[str, tuple[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleBook:
    rules: dict[str, Rule]
    units: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    words: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rounding_max_relative: float = 0.005
    exact_units: frozenset[str] = frozenset()


def load_book(path: Path | None = None) -> RuleBook:
    """The rule book in `path`, or the packaged `data/rules.toml`."""
    if path is None:
        text = resources.files(__package__).joinpath("data", "rules.toml").read_text("utf-8")
        where = "rules.toml"
    else:
        text = path.read_text(encoding="utf-8")
        where = str(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleBookError(f"{where}: {error}") from error
    return book_from(document, where)


def book_from(document: Mapping[str, Any], where: str = "rules") -> RuleBook:
    """A rule book from parsed TOML (tests build small books this way)."""
    rules = {code: _rule(code, body, where) for code, body in document.get("rules", {}).items()}
    rounding = document.get("rounding", {})
    return RuleBook(
        rules=rules,
        units=document.get("units", {}),
        words=document.get("words", {}),
        rounding_max_relative=float(rounding.get("max_relative", 0.005)),
        exact_units=frozenset(rounding.get("exact_units", ())),
    )


def _rule(code: str, body: Mapping[str, Any], where: str) -> Rule:
    for name in ("kind", "severity", "message_vi", "message_en"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise RuleBookError(f"{where}: rule {code!r} needs a text {name!r}")
    if body["kind"] not in KINDS:
        raise RuleBookError(f"{where}: rule {code!r} has unknown kind {body['kind']!r}")
    if body["severity"] not in SEVERITIES:
        raise RuleBookError(f"{where}: rule {code!r} has unknown severity {body['severity']!r}")
    extra = {
        name.removesuffix("_vi"): (text, body.get(name.removesuffix("_vi") + "_en", text))
        for name, text in body.items()
        if name.endswith("_message_vi") and isinstance(text, str)
    }
    return Rule(
        code=code,
        kind=body["kind"],
        severity=body["severity"],
        message_vi=body["message_vi"],
        message_en=body["message_en"],
        params=body.get("params", {}),
        messages=extra,
    )
