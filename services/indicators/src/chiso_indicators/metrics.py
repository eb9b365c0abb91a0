"""Indicators' own metrics: imports (`POST /v1/facts` and DHIS2 `dataValueSets`)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import cast

from fastapi import Request
from prometheus_client import Counter, Histogram

from chiso_indicators import __version__
from chiso_shared.metrics import Metrics

SOURCES = ("facts", "dhis2")
# What became of a batch: imported (written), replayed (an Idempotency-Key seen before: its
# summary again, nothing written), dry_run (counted, rolled back), rejected (a 4xx).
OUTCOMES = ("imported", "replayed", "dry_run", "rejected")
RESULTS = ("imported", "updated", "ignored", "withdrawn")
IMPORT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class IndicatorsMetrics(Metrics):
    def __init__(self) -> None:
        super().__init__("indicators", __version__)
        self.import_batches = Counter(
            "chiso_indicators_import_batches",
            "Import batches, by source (facts, dhis2) and outcome (" + ", ".join(OUTCOMES) + ").",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.facts_imported = Counter(
            "chiso_indicators_facts_imported",
            "Facts of written imports, by source and result (" + ", ".join(RESULTS) + "); "
            "facts per second is its rate().",
            ["source", "result"],
            registry=self.registry,
        )
        self.import_seconds = Histogram(
            "chiso_indicators_import_seconds",
            "Time one import batch took in the service (validation, writes, quality checks).",
            ["source"],
            buckets=IMPORT_BUCKETS,
            registry=self.registry,
        )
        for source in SOURCES:
            self.import_seconds.labels(source)
            for outcome in OUTCOMES:
                self.import_batches.labels(source, outcome)
            for result in RESULTS:
                self.facts_imported.labels(source, result)

    @contextmanager
    def importing(self, source: str) -> Iterator[None]:
        """Time an import; one that raises (a 4xx refusal) counts as rejected."""
        started = time.perf_counter()
        try:
            yield
        except Exception:
            self.import_batches.labels(source, "rejected").inc()
            raise
        finally:
            self.import_seconds.labels(source).observe(time.perf_counter() - started)

    def imported(self, source: str, *, dry_run: bool, counts: Mapping[str, int]) -> None:
        self.import_batches.labels(source, "dry_run" if dry_run else "imported").inc()
        if dry_run:
            return
        for result in RESULTS:
            if counts.get(result):
                self.facts_imported.labels(source, result).inc(counts[result])


def indicators_metrics(request: Request) -> IndicatorsMetrics:
    return cast(IndicatorsMetrics, request.state.metrics)
