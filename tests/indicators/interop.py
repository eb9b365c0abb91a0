"""Helpers for tests that load the gold facts of ../shared/eval/dev into a served indicators app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from tests.support import SHARED, service_headers, serving

GOLD = SHARED / "eval" / "dev"


def gold_batches() -> list[dict[str, Any]]:
    """One batch per gold file (one report each), in file order; skips when ../shared is absent."""
    if not GOLD.is_dir():
        pytest.skip("../shared/eval/dev is not present")
    batches = []
    for path in sorted(GOLD.glob("*.jsonl")):
        facts = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        batches.append({"facts": facts})
    return batches


@contextmanager
def served(tmp_path: Path, database_url: str) -> Iterator[httpx.Client]:
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    headers = service_headers("indicators")
    with (
        serving(create_app(settings)) as base,
        httpx.Client(base_url=base, timeout=30, headers=headers) as client,
    ):
        yield client


def import_all(client: httpx.Client, batches: list[dict[str, Any]]) -> None:
    for batch in batches:
        response = client.post("/v1/facts", json=batch)
        assert response.status_code == 200, response.text


def current_values(client: httpx.Client) -> set[tuple[Any, ...]]:
    """Every current observation's series key, period, value and status, across all pages."""
    found: set[tuple[Any, ...]] = set()
    params: dict[str, Any] = {"limit": 1000}
    while True:
        page = client.get("/v1/observations", params=params).json()
        for item in page["items"]:
            found.add(
                tuple(
                    item[name]
                    for name in (
                        "indicator",
                        "area",
                        "frequency",
                        "measure",
                        "transformation",
                        "unit",
                        "period",
                        "value",
                        "status",
                    )
                )
            )
        if not page["next_cursor"]:
            return found
        params["cursor"] = page["next_cursor"]


def pysdmx_structures(text: str) -> list[Any]:
    """The artefacts pysdmx reads from a structure message, checked against the official
    schemas (SDMX-ML or SDMX-JSON, which pysdmx tells apart)."""
    from pysdmx.io import read_sdmx

    return list(read_sdmx(text, validate=True).structures or ())


def pysdmx_datasets(text: str) -> list[Any]:
    """The data sets pysdmx reads from SDMX-ML or SDMX-CSV (each with its pandas `data`)."""
    from pysdmx.io import read_sdmx

    return list(read_sdmx(text).data or ())
