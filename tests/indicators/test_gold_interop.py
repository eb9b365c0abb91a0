"""All gold facts imported through POST /v1/facts, then read back through /v1, SDMX and DHIS2."""

from __future__ import annotations

from pathlib import Path

import sdmx

from chiso_shared.series import STATUS_LETTERS
from tests.indicators.interop import current_values, gold_batches, import_all, served
from tests.support import fresh_database

AREA, INDICATOR = "38", "telecom.subscribers.total"
EXPECTED = {"2022": (2957000.0, "E"), "2023": (2980000.0, "E")}


def test_gold_reads_agree_through_v1_sdmx_and_dhis2(tmp_path: Path, indicators_db: str) -> None:
    batches = gold_batches()
    with served(tmp_path, indicators_db) as client:
        import_all(client, batches)
        response = client.get(
            "/v1/observations",
            params={
                "indicator": INDICATOR,
                "area": AREA,
                "transformation": "level",
                "measure": "actual",
                "frequency": "A",
            },
        )
        items = response.json()["items"]
        assert {i["period"]: (i["value"], STATUS_LETTERS[i["status"]]) for i in items} == EXPECTED
        assert all(item["sources"] for item in items)

        sdmx.add_source(
            {
                "id": "CHISO_TEST",
                "url": str(client.base_url).rstrip("/") + "/sdmx/2.1",
                "name": "chiso test",
            },
            override=True,
        )
        reader = sdmx.Client("CHISO_TEST")
        reader.session.headers["Authorization"] = client.headers["Authorization"]
        message = reader.data(
            "DF_PROVINCE_ICT", key="A.38.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL.COUNT"
        )
        (series,) = message.data[0].series.values()
        read = {
            str(obs.dimension.values["TIME_PERIOD"].value): (
                float(obs.value),
                obs.attached_attribute["OBS_STATUS"].value,
            )
            for obs in series
        }
        assert read == EXPECTED

        exported = client.get(
            "/dhis2/api/dataValueSets.json",
            params={"dataElement": INDICATOR, "orgUnit": AREA, "idScheme": "code"},
        ).json()["dataValues"]
        dhis2 = {
            v["period"]: (float(v["value"]), _status(v["comment"]))
            for v in exported
            if v["categoryOptionCombo"] == "LEVEL_COUNT" and v["attributeOptionCombo"] == "ACTUAL"
        }
        assert dhis2 == EXPECTED


def _status(comment: str) -> str:
    """The OBS_STATUS of a DHIS2 comment: `OBS_STATUS:E`, then any open quality flags'
    messages after "; "."""
    return comment.split("; ")[0].removeprefix("OBS_STATUS:")


def test_reverse_document_order_gives_the_same_current_values(
    tmp_path: Path, indicators_db: str
) -> None:
    batches = gold_batches()
    with served(tmp_path / "forward", indicators_db) as client:
        import_all(client, batches)
        forward = current_values(client)
    with (
        fresh_database(tmp_path, "reverse") as reverse_db,
        served(tmp_path / "reverse", reverse_db) as client,
    ):
        import_all(client, list(reversed(batches)))
        import_all(client, batches)  # re-sending everything changes nothing
        assert current_values(client) == forward
    assert len(forward) > 100
