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
    FLOW_NAME,
    MEASURE_ID,
    OTHER_CONCEPTS,
    QUALITY_ATTR,
    STATUS_ATTR,
    TIME,
    VERSION,
    Label,
    codelists,
    concepts,
)
from chiso_indicators.sdmx.xml import Obs, SeriesData
from chiso_shared.languages import Language
from chiso_shared.responses import csv_bytes


def _values(codes: list[str], names: dict[str, Label], language: Language) -> list[dict[str, str]]:
    return [
        {"id": code, "name": names[code](language) if code in names else code} for code in codes
    ]


def _index(seen: dict[str, int], code: str) -> int:
    return seen.setdefault(code, len(seen))


def json_data(
    series: Sequence[SeriesData], *, flat: bool, detail: str, language: Language = "vi"
) -> bytes:
    """SDMX-JSON 1.0 data, the names in `language`."""
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
            "name": d.name(language),
            "keyPosition": i,
            "values": _values(list(dim_codes[i]), lists[d.codelist].codes, language),
        }
        for i, d in enumerate(DIMENSIONS)
    ]
    time = {
        "id": TIME,
        "name": OTHER_CONCEPTS[TIME](language),
        "keyPosition": len(DIMENSIONS),
        "role": "time",
        "values": [{"id": p, "name": p} for p in periods],
    }
    status_attr = {
        "id": STATUS_ATTR,
        "name": OTHER_CONCEPTS[STATUS_ATTR](language),
        "values": _values(list(statuses), lists["CL_OBS_STATUS"].codes, language),
    }
    quality_attr = {
        "id": QUALITY_ATTR,
        "name": OTHER_CONCEPTS[QUALITY_ATTR](language),
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
            "name": FLOW_NAME(language),
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


def _labelled(code: str, name: str | None, labels: str) -> list[str]:
    """One value as SDMX-CSV `labels` wants it: `id`, `id: name` (both), or id then name."""
    if labels == "both":
        return [f"{code}: {name}" if name is not None and code else code]
    if labels == "name":
        return [code, name or ""]
    return [code]


def _csv_header(detail: str, labels: str, language: Language, version: str) -> list[str]:
    concept_names = concepts()
    components = [*(d.id for d in DIMENSIONS), TIME, MEASURE_ID]
    if detail != "dataonly":
        components += [STATUS_ATTR, QUALITY_ATTR]
    if version == "2.0.0":
        named = ["STRUCTURE_NAME"] if labels == "name" else []
        header = ["STRUCTURE", "STRUCTURE_ID", *named, "ACTION"]
    else:
        header = ["DATAFLOW"] + (["DATAFLOW_NAME"] if labels == "name" else [])
    for component in components:
        name = concept_names[component](language)
        if labels == "name":
            header += [component, name]
        elif labels == "both" and (component != MEASURE_ID or version == "2.0.0"):
            # SDMX-CSV 1.0 labels the dimensions' and attributes' columns, not the measure's
            header.append(f"{component}: {name}")
        else:
            header.append(component)
    return header


def csv_data(
    series: Sequence[SeriesData],
    *,
    detail: str,
    labels: str = "id",
    language: Language = "vi",
    version: str = "1.0.0",
) -> bytes:
    """SDMX-CSV 1.0.0 or 2.0.0 (`version`), `labels` (id, both or name) as the SDMX-CSV
    field guide has them, the names in `language`. In 1.0.0, `name` takes 2.0.0's layout:
    each column followed by one with the names (`DATAFLOW_NAME` after `DATAFLOW`)."""
    lists = codelists()
    coded = [lists[d.codelist].codes for d in DIMENSIONS]
    status_names = lists["CL_OBS_STATUS"].codes
    flow = _labelled(f"{AGENCY}:{FLOW}({VERSION})", FLOW_NAME(language), labels)
    if version == "2.0.0":
        flow = ["dataflow", *flow, "I"]

    def row(key: Sequence[str], obs: Obs) -> list[str]:
        period, value, status, flags = obs
        cells = list(flow)
        for position, code in enumerate(key):
            name = coded[position].get(code)
            cells += _labelled(code, name(language) if name else None, labels)
        cells += _labelled(period, None, labels) + _labelled(_number(value), None, labels)
        if detail != "dataonly":
            status_name = status_names.get(status)
            cells += _labelled(status, status_name(language) if status_name else None, labels)
            cells += _labelled(flags, None, labels)
        return cells

    rows = (row(key, obs) for key, observations in series for obs in observations)
    return csv_bytes(_csv_header(detail, labels, language, version), rows)


def _number(value: float) -> str:
    return format(value, ".15g")
