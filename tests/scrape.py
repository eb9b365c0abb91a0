"""Reading a service's /metrics as Prometheus does: its text parsed by prometheus_client."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    types: dict[str, str]  # family name -> counter, gauge, histogram, info ...
    samples: list[Sample]

    @classmethod
    def parse(cls, text: str) -> Scrape:
        families = list(text_string_to_metric_families(text))
        return cls(
            types={family.name: family.type for family in families},
            samples=[sample for family in families for sample in family.samples],
        )

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels` (0: none)."""
        return sum(
            sample.value
            for sample in self.samples
            if sample.name == name and labels.items() <= sample.labels.items()
        )

    def label_sets(self, name: str) -> set[frozenset[str]]:
        """The label names each sample called `name` carries (`le` of buckets left out)."""
        return {frozenset(sample.labels) - {"le"} for sample in self.samples if sample.name == name}

    def label_values(self, name: str, label: str) -> set[str]:
        return {s.labels[label] for s in self.samples if s.name == name and label in s.labels}


def scrape(url: str, path: str = "/metrics") -> Scrape:
    response = httpx.get(url.rstrip("/") + path, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    return Scrape.parse(response.text)


async def scrape_async(client: httpx.AsyncClient, path: str = "/metrics") -> Scrape:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return Scrape.parse(response.text)
