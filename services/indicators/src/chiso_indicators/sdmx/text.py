"""SDMX-JSON 1.0 and SDMX-CSV 1.0 data writers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from chiso_indicators.sdmx.model import (
    AGENCY,
    DIMENSIONS,
    FLOW,
    MEASURE_ID,
    QUALITY_ATTR,
    STATUS_ATTR,
    TIME,
    VERSION,
    codelists,
)
from chiso_indicators.sdmx.xml import SeriesData
from chiso_shared.responses import csv_bytes


def _values(codes: list[str], names: dict[str, str]) -> list[dict[str, str]]:
    return [{"id": code, "name": names.get(code, code)} for code in codes]


def _index(seen: dict[str, int], code: str) -> int:
    return seen.setdefault(code, len(seen))


def json_data(series: Sequence[SeriesData], *, flat: bool, detail: str) -> bytes:
    dim_codes: list[dict[str, int]] = [{} for _ in DIMENSIONS]
    periods: dict[str, int] = {}
    statuses: dict[str, int] = {}
    flag_sets: dict[str, int] = {}
    out_series: dict[str, Any] = {}
    out_obs: dict[str, Any] = {}
    for key, observations in series:
        positions = [_index(dim_codes[i], code) for i, code in enumerate(key)]
        target: dict[str, Any] = {}
        for period, value, status, flags in observations:
            obs: list[Any] = [value]
            if detail != "dataonly":
                obs.append(_index(statuses, status))
                obs.append(_index(flag_sets, flags) if flags else None)
            time_index = _index(periods, period)
            if flat:
                out_obs[":".join(map(str, [*positions, time_index]))] = obs
            else:
                target[str(time_index)] = obs
        if not flat:
            entry: dict[str, Any] = {"attributes": []}
            if detail != "serieskeysonly":
                entry["observations"] = target
            out_series[":".join(map(str, positions))] = entry
    lists = codelists()
    dimensions = [
        {
            "id": d.id,
            "name": d.name,
            "keyPosition": i,
            "values": _values(list(dim_codes[i]), lists[d.codelist]),
        }
        for i, d in enumerate(DIMENSIONS)
    ]
    time = {
        "id": TIME,
        "name": "Time period",
        "keyPosition": len(DIMENSIONS),
        "role": "time",
        "values": [{"id": p, "name": p} for p in periods],
    }
    status_attr = {
        "id": STATUS_ATTR,
        "name": "Observation status",
        "values": _values(list(statuses), lists["CL_OBS_STATUS"]),
    }
    quality_attr = {
        "id": QUALITY_ATTR,
        "name": "Open data-quality flags (rule codes, space-separated)",
        "values": [{"id": flags, "name": flags} for flags in flag_sets],
    }
    dataset: dict[str, Any] = {"action": "Information"}
    if flat:
        dataset["observations"] = out_obs
    else:
        dataset["series"] = out_series
    message = {
        "header": {
            "id": "DATA",
            "test": False,
            "prepared": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sender": {"id": AGENCY},
        },
        "dataSets": [dataset],
        "structure": {
            "name": FLOW,
            "dimensions": {
                "dataset": [],
                "series": [] if flat else dimensions,
                "observation": [*dimensions, time] if flat else [time],
            },
            "attributes": {
                "dataSet": [],
                "series": [],
                "observation": [] if detail == "dataonly" else [status_attr, quality_attr],
            },
        },
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def csv_data(series: Sequence[SeriesData], *, detail: str) -> bytes:
    columns = ["DATAFLOW", *(d.id for d in DIMENSIONS), TIME, MEASURE_ID]
    if detail != "dataonly":
        columns += [STATUS_ATTR, QUALITY_ATTR]
    flow = f"{AGENCY}:{FLOW}({VERSION})"
    rows = (
        [flow, *key, period, format(value, ".15g"), status, flags][: len(columns)]
        for key, observations in series
        for period, value, status, flags in observations
    )
    return csv_bytes(columns, rows)
