"""A selection of thousands of observations, built programmatically and imported through the
API in batches: what the export tests read back whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from chiso_indicators.settings import Settings
from tests.support import SERVICE_SECRET, fact, service_headers

# Facts' `scope` is the extraction contract (GSO codes with the VN- prefix): inputs, as sent.
SCOPES = [
    "VN-01", "VN-02", "VN-04", "VN-06", "VN-08", "VN-10", "VN-11", "VN-12", "VN-14", "VN-15",
    "VN-17", "VN-19", "VN-20", "VN-22", "VN-24", "VN-25", "VN-26", "VN-27", "VN-30", "VN-31",
]  # fmt: skip
MONTHS = 250  # 2000-01 .. 2020-10
ROWS = len(SCOPES) * MONTHS  # 5,000
BATCH = 1000


def months() -> list[str]:
    return [f"{2000 + m // 12}-{m % 12 + 1:02d}" for m in range(MONTHS)]


def bulk_facts() -> list[dict[str, Any]]:
    """One fact per (province, month): `ROWS` distinct observations of one indicator."""
    cells = enumerate((scope, period) for scope in SCOPES for period in months())
    return [_fact(number, scope, period) for number, (scope, period) in cells]


def _fact(number: int, scope: str, period: str) -> dict[str, Any]:
    value = 1_000_000 + number
    text = f"{value:,}".replace(",", ".")  # as a Vietnamese report writes it
    place = {"start": number, "end": number + len(text), "text": text}
    return fact(doc=f"bulk-{scope}.txt", scope=scope, period=period, value=value, **place)


def import_bulk(base_url: str) -> None:
    """Post `bulk_facts` to a running indicators service in batches of `BATCH`."""
    facts = bulk_facts()
    headers = service_headers("indicators")
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        for first in range(0, len(facts), BATCH):
            chunk = facts[first : first + BATCH]
            names = sorted({f["doc"] for f in chunk})
            documents = [{"name": name, "published": "2021-01-15"} for name in names]
            response = http.post("/v1/facts", json={"documents": documents, "facts": chunk})
            assert response.status_code == 200, response.text
            assert response.json()["imported"] == len(chunk)


def export_settings(data_dir: Path, url: str, *, most: int) -> Settings:
    """Indicators on `url` whose exports hold at most `most` observations."""
    return Settings(
        data_dir=data_dir,
        database_url=url,
        service_token_secret=SERVICE_SECRET,
        max_export_observations=most,
    )
