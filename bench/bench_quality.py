"""How long the data-quality checks take over ~100,000 observations (issue 18).

The store runs `check` on every import; the goal is that checks add under 20% to importing
100,000 facts (see bench_quality_import.py for the import itself). Two workloads:
synthetic observations (every province, a few related indicators, levels with changes, some
second versions from other documents, one finding in ~30 observations), and the observations
the import bench's 100,000 facts become (`offline.observations_from_facts`: what the store
hands `check`).

    .tools/bin/uv run python bench/bench_quality.py
"""

from __future__ import annotations

import gc
import itertools
import time
from collections.abc import Callable

from bench_quality_import import facts

from chiso_indicators.quality import Obs, check, load_book
from chiso_indicators.quality.offline import observations_from_facts
from chiso_shared.facts import Fact

INDICATORS = (
    ("telecom.subscribers.total", "count", 2_000_000),
    ("telecom.subscribers.fixed", "count", 30_000),
    ("telecom.subscribers.mobile", "count", 1_970_000),
    ("telecom.phone_density", "per_100_people", 80.0),
    ("telecom.internet.subscribers", "count", 1_500_000),
    ("telecom.internet.density", "per_100_people", 60.0),
    ("postal.revenue", "VND", 5e11),
    ("postal.items", "count", 250_000),
)


def observations(target: int = 100_000, wrong_every: int = 50) -> list[Obs]:
    """Monthly levels growing 1% a month with their stated change; one stated change in
    `wrong_every` is off, and as often another document gives a second value."""
    ids = itertools.count(1)
    found: list[Obs] = []
    areas = [f"VN-{n:02d}" for n in range(1, 97)]
    months = [(year, month) for year in range(2015, 2025) for month in range(1, 13)]
    for area, (code, unit, base), (index, (year, month)) in itertools.product(
        areas, INDICATORS, enumerate(months)
    ):
        if len(found) >= target:
            break
        value = round(base * 1.01**index, 2)
        common = {
            "indicator": code,
            "area": area,
            "frequency": "M",
            "period": f"{year}-{month:02d}",
        }
        odd = next(ids) % wrong_every == 0
        found.append(
            Obs(
                next(ids),
                measure="actual",
                transformation="level",
                unit=unit,
                value=value,
                status="A",
                is_current=True,
                documents=("doc-a",),
                **common,
            )
        )
        found.append(
            Obs(
                next(ids),
                measure="actual",
                transformation="change_previous",
                unit="percent",
                value=9.0 if odd else 1.0,
                status="E",
                is_current=True,
                documents=("doc-a",),
                **common,
            )
        )
        if odd:
            found.append(
                Obs(
                    next(ids),
                    measure="actual",
                    transformation="level",
                    unit=unit,
                    value=value * 1.1,
                    status="A",
                    is_current=False,
                    documents=("doc-b",),
                    **common,
                )
            )
    return found


def imported(total: int = 100_000) -> list[Obs]:
    """The observations the import bench's facts become in the store."""
    return observations_from_facts([Fact.model_validate(fact) for fact in facts(total)], {})


def main() -> None:
    book = load_book()
    workloads: dict[str, Callable[[], list[Obs]]] = {
        "synthetic": observations,
        "import facts": imported,
    }
    for name, build in workloads.items():
        data = build()
        best = float("inf")
        for _ in range(5):
            gc.collect()  # no collector debt carried over from building the data or a run
            started = time.perf_counter()
            findings = check(data, book)
            best = min(best, time.perf_counter() - started)
        print(
            f"check() on {name}: {len(data):,} observations, {len(findings):,} findings, "
            f"best {best:.3f} s"
        )


if __name__ == "__main__":
    main()
