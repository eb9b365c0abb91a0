"""Data-quality checks over the numbers indicators holds (issue 18): a pure engine
(`engine.check`) driven by the rule book in `data/rules.toml` (`rules.load_book`)."""

from chiso_indicators.quality.engine import Finding, Obs, check, related_indicators
from chiso_indicators.quality.rules import Rule, RuleBook, load_book

__all__ = ["Finding", "Obs", "Rule", "RuleBook", "check", "load_book", "related_indicators"]
