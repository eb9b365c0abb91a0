"""Run the quality checks on extracted facts, without a database: what the store would hold
for them (series, versions, current versions), turned into `Obs`.

`python -m chiso_indicators.quality.offline FACTS.jsonl... [--hints HINTS.tsv]` (or
`./scripts/quality-check`) prints every finding and a count by rule.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from chiso_indicators.observations.periods import (
    STATUS_CODES,
    STATUS_RANK,
    measure,
    transformation,
)
from chiso_indicators.quality.engine import Finding, Obs, check
from chiso_indicators.quality.rules import load_book
from chiso_shared.catalogue import area_of_scope
from chiso_shared.facts import Fact
from chiso_shared.periods import Period

__all__ = ["fingerprint", "main", "observations_from_facts"]


def fingerprint(fact: Fact) -> str:
    """The importer's content key of a version (`observations.importer.fingerprint`)."""
    parts = [_number(fact.value), _number(fact.of), _number(fact.max), STATUS_CODES[fact.status]]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _number(value: float | None) -> str:
    return "" if value is None else format(value, ".12g")


@dataclass(slots=True)
class _Version:
    order: int
    value: float
    status: str
    fingerprint: str
    documents: set[str] = field(default_factory=set)
    latest: str = ""  # the newest publication among its sources
    reviewed: bool = False

    def rank(self) -> tuple[bool, int, str, float, str]:
        """The importer's `_rank`: reviewed first, then status, newer publication, value,
        and the fingerprint to settle full ties."""
        return (
            self.reviewed,
            STATUS_RANK.get(self.status, 0),
            self.latest,
            self.value,
            self.fingerprint,
        )


def observations_from_facts(facts: Iterable[Fact], published: Mapping[str, str]) -> list[Obs]:
    """The versions the store would hold for these facts: the facts with an indicator and a
    province or the country, one version per distinct content per (series, period) with its
    documents, the current one chosen by the importer's rule. A document without a
    publication date in `published` takes the end of its latest period, as the importer does.
    Ids are sequential in order of first mention."""
    usable = [f for f in facts if f.indicator and f.scope not in (None, "sub")]
    dates = _publications(usable, published)
    series: dict[tuple[str, ...], dict[str, dict[str, _Version]]] = {}
    order = 0
    for fact in usable:
        key: tuple[str, ...] = (
            str(fact.indicator),
            area_of_scope(fact.scope),
            Period.parse(fact.period).frequency,
            measure(fact.status),
            transformation(fact.role, fact.basis),
            fact.unit.value,
        )
        held = series.setdefault(key, {}).setdefault(fact.period, {})
        print_ = fingerprint(fact)
        version = held.get(print_)
        if version is None:
            order += 1
            status = STATUS_CODES[fact.status]
            version = held[print_] = _Version(order, fact.value, status, print_)
        version.documents.add(fact.doc)
        version.latest = max(version.latest, dates[fact.doc])
        version.reviewed = version.reviewed or fact.review is not None
    found: list[Obs] = []
    for key, periods in series.items():
        indicator, area, frequency, measure_, transformation_, unit = key
        for period, held in periods.items():
            best = max(held.values(), key=_Version.rank)
            for version in held.values():
                found.append(
                    Obs(
                        id=version.order,
                        indicator=indicator,
                        area=area,
                        frequency=frequency,
                        measure=measure_,
                        transformation=transformation_,
                        unit=unit,
                        period=period,
                        value=version.value,
                        status=version.status,
                        is_current=version is best,
                        documents=tuple(sorted(version.documents)),
                    )
                )
    return sorted(found, key=lambda obs: obs.id)


def _publications(facts: Sequence[Fact], published: Mapping[str, str]) -> dict[str, str]:
    ends: dict[str, str] = {}
    for fact in facts:
        end = Period.parse(fact.period).end.isoformat()
        ends[fact.doc] = max(ends.get(fact.doc, ""), end)
    return {doc: published.get(doc) or end for doc, end in ends.items()}


def read_facts(paths: Iterable[Path]) -> list[Fact]:
    facts: list[Fact] = []
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            facts.extend(Fact.model_validate_json(line) for line in lines if line.strip())
    return facts


def read_hints(path: Path) -> dict[str, str]:
    """Publication dates by document file name from an extract hints table."""
    with path.open(encoding="utf-8", newline="") as table:
        rows = list(csv.DictReader(table, delimiter="\t"))
    return {
        Path(row["file"]).name: row["published"]
        for row in rows
        if row.get("file") and row.get("published")
    }


def report(findings: Sequence[Finding], observations: Sequence[Obs]) -> str:
    """Every finding with its parts, then the count by rule."""
    by_id = {obs.id: obs for obs in observations}
    lines: list[str] = []
    for finding in findings:
        lines.append(
            f"[{finding.rule}] {finding.severity} {finding.indicator} {finding.area} "
            f"{finding.period}: {finding.message_en}"
        )
        for id_, part in finding.parts:
            obs = by_id[id_]
            lines.append(
                f"    {part:<10} {','.join(obs.documents)} value={obs.value:.12g} "
                f"period={obs.period} {obs.transformation} {obs.unit} status={obs.status}"
                f"{'' if obs.is_current else ' (not current)'}"
            )
    counts = Counter(finding.rule for finding in findings)
    lines.append(f"{len(findings)} finding(s) over {len(observations)} observation(s)")
    lines.extend(f"  {rule}: {count}" for rule, count in sorted(counts.items()))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="quality-check",
        description="Run the data-quality checks on JSONL facts (chiso extract --jsonl). / "
        "Chạy các kiểm tra chất lượng số liệu trên dữ kiện JSONL.",
    )
    parser.add_argument("facts", nargs="+", type=Path, help="JSONL fact files")
    parser.add_argument("--hints", type=Path, help="extract hints TSV (file, published)")
    parser.add_argument("--rules", type=Path, help="a rules.toml other than the packaged one")
    arguments = parser.parse_args(argv)
    facts = read_facts(arguments.facts)
    published = read_hints(arguments.hints) if arguments.hints else {}
    observations = observations_from_facts(facts, published)
    findings = check(observations, load_book(arguments.rules))
    sys.stdout.write(report(findings, observations) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
