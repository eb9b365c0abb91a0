"""Quality flags and `chosen_by` on every read surface of indicators (issue 18): observations
(JSON, CSV, history, as_of), series points, SDMX and DHIS2.

The facts go in through the real `/v1/facts`; the flags are written straight into the service's
database, as the quality engine (tested on its own) would file them, so these tests hold the
read surfaces alone to account (the checks are off); the last test lets the checks raise one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import sdmx
from sdmx.message import DataMessage, StructureMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chiso_indicators.db.models import (
    Observation,
    QualityFlag,
    QualityFlagObservation,
    Series,
)
from chiso_indicators.main import create_app
from chiso_indicators.quality.notes import notes_for
from chiso_indicators.settings import Settings
from chiso_shared.db import create_engine, create_sessionmaker, session_scope
from chiso_shared.series import SeriesPoint
from tests.support import fact, running

pytestmark = pytest.mark.asyncio

INDICATOR = "telecom.subscribers.total"
AREA = "40"
KEY = "A.40.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL.COUNT"
OLD = {"id": "d-2023", "name": "nghe-an-2023.txt", "published": "2023-12-20"}
NEW = {"id": "d-2024", "name": "nghe-an-2024.txt", "published": "2024-06-01"}


@dataclass
class Served:
    http: httpx.AsyncClient
    db: async_sessionmaker[AsyncSession]


@pytest_asyncio.fixture
async def served(tmp_path: Path, indicators_db: str) -> AsyncIterator[Served]:
    # The checks off: the flags here are the ones the tests file themselves.
    settings = Settings(data_dir=tmp_path, database_url=indicators_db, quality_checks=False)
    async with running(create_app(settings)) as http:
        engine = create_engine(indicators_db)
        try:
            yield Served(http, create_sessionmaker(engine))
        finally:
            await engine.dispose()


async def post(http: httpx.AsyncClient, *facts: dict[str, Any], **batch: Any) -> None:
    response = await http.post("/v1/facts", json={"facts": list(facts), **batch})
    assert response.status_code == 200, response.text


def level(period: str, value: int, *, doc: dict[str, str] = OLD, **extra: Any) -> dict[str, Any]:
    start = 10 * int(period[:4]) % 1000
    return fact(
        doc=doc["name"],
        period=period,
        value=value,
        text=f"{value:,}".replace(",", "."),
        start=start,
        end=start + 9,
        **extra,
    )


async def version_id(served: Served, period: str, value: float) -> int:
    async for session in session_scope(served.db):
        query = (
            select(Observation.id)
            .join(Series)
            .where(
                Series.indicator_code == INDICATOR,
                Series.area_code == AREA,
                Series.transformation == "level",
                Observation.period == period,
                Observation.value == value,
            )
        )
        return int((await session.scalars(query)).one())
    raise AssertionError("no session")


@dataclass(frozen=True)
class Flag:
    rule: str
    severity: str
    period: str
    parts: tuple[tuple[int, str], ...]
    resolved: bool = False

    @property
    def message_en(self) -> str:
        return f"{self.rule} in {self.period} (en)"

    @property
    def message_vi(self) -> str:
        return f"{self.rule} năm {self.period} (vi)"


async def file_flags(served: Served, *flags: Flag) -> list[int]:
    """The flags inserted as the quality store files them; their ids."""
    ids = []
    async for session in session_scope(served.db):
        for number, flag in enumerate(flags):
            resolution: dict[str, Any] = {}
            if flag.resolved:
                resolution = {
                    "resolution": "explain",
                    "resolved_by": "ch_reviewer",
                    "resolved_at": datetime.now(UTC),
                    "resolution_note": "The 2023 report revised its own estimate.",
                }
            row = QualityFlag(
                key=f"{flag.rule}-{number}",
                rule=flag.rule,
                severity=flag.severity,
                indicator_code=INDICATOR,
                area_code=AREA,
                period=flag.period,
                figures={"stated": 1.0},
                message_vi=flag.message_vi,
                message_en=flag.message_en,
                **resolution,
            )
            session.add(row)
            await session.flush()
            session.add_all(
                QualityFlagObservation(flag_id=row.id, observation_id=observation, part=part)
                for observation, part in flag.parts
            )
            ids.append(row.id)
    return ids


@dataclass(frozen=True)
class World:
    between: str  # a time after the 2023 report came in and before the 2024 one
    ids: dict[str, int]  # version ids: "2020", "2021", "2022", "2023e" (estimate), "2023a"
    flags: dict[str, int]  # flag ids by rule
    filed: dict[str, Flag]


@pytest_asyncio.fixture
async def world(served: Served) -> World:
    """Four years of one series; 2023 first an estimate (the 2023 report), then an actual
    (the 2024 report). Flags: an open warning over 2022 and 2023 (naming the 2023 actual in
    two parts), a resolved info over both 2023 versions, an open error on 2022 alone and an
    open info on 2021; 2020 has none."""
    await post(
        served.http,
        level("2020", 2800000),
        level("2021", 2900000),
        level("2022", 3000000),
        level("2023", 3100000, status="estimate"),
        documents=[OLD],
    )
    between = datetime.now(UTC).isoformat()
    await post(served.http, level("2023", 3120000, doc=NEW), documents=[NEW])
    ids = {
        "2020": await version_id(served, "2020", 2800000),
        "2021": await version_id(served, "2021", 2900000),
        "2022": await version_id(served, "2022", 3000000),
        "2023e": await version_id(served, "2023", 3100000),
        "2023a": await version_id(served, "2023", 3120000),
    }
    filed = {
        "change_vs_levels": Flag(
            "change_vs_levels",
            "warning",
            "2023",
            ((ids["2022"], "previous"), (ids["2023a"], "level"), (ids["2023a"], "stated")),
        ),
        "revised_estimate": Flag(
            "revised_estimate",
            "info",
            "2023",
            ((ids["2023e"], "value"), (ids["2023a"], "value")),
            resolved=True,
        ),
        "implausible_level": Flag("implausible_level", "error", "2022", ((ids["2022"], "value"),)),
        "implausible_jump": Flag("implausible_jump", "info", "2021", ((ids["2021"], "value"),)),
    }
    flag_ids = await file_flags(served, *filed.values())
    return World(between, ids, dict(zip(filed, flag_ids, strict=True)), filed)


def note(world: World, rule: str) -> dict[str, Any]:
    flag = world.filed[rule]
    return {
        "flag_id": world.flags[rule],
        "rule": rule,
        "severity": flag.severity,
        "status": "resolved" if flag.resolved else "open",
        "message_vi": flag.message_vi,
        "message_en": flag.message_en,
    }


async def observations(http: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await http.get(
        "/v1/observations",
        params={"indicator": INDICATOR, "area": AREA, "transformation": "level", **params},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_observations_carry_their_flags_open_first_and_chosen_by(
    served: Served, world: World
) -> None:
    items = {item["period"]: item for item in await observations(served.http)}
    assert {period: item["chosen_by"] for period, item in items.items()} == {
        "2020": "only",
        "2021": "only",
        "2022": "only",
        "2023": "status",  # the 2024 report's actual over the 2023 report's estimate
    }
    assert items["2020"]["quality"] == []
    assert items["2021"]["quality"] == [note(world, "implausible_jump")]
    # the error before the warning; one note for a flag that names the version in two parts
    assert items["2022"]["quality"] == [
        note(world, "implausible_level"),
        note(world, "change_vs_levels"),
    ]
    assert items["2023"]["quality"] == [
        note(world, "change_vs_levels"),
        note(world, "revised_estimate"),  # resolved: still shown, after the open ones
    ]
    assert items["2023"]["value"] == 3120000

    history = await observations(served.http, include_history=True, start_period="2023")
    by_value = {item["value"]: item for item in history}
    estimate = by_value[3100000]
    assert (estimate["is_current"], estimate["chosen_by"]) == (False, None)
    assert estimate["quality"] == [note(world, "revised_estimate")]
    assert by_value[3120000]["chosen_by"] == "status"

    # As it stood before the 2024 report: the estimate was current, the only version then.
    (then,) = await observations(served.http, as_of=world.between, start_period="2023")
    assert (then["value"], then["is_current"], then["chosen_by"]) == (3100000, True, "only")
    assert then["quality"] == [note(world, "revised_estimate")]
    both = await observations(
        served.http, as_of=datetime.now(UTC).isoformat(), include_history=True, start_period="2023"
    )
    assert {(i["value"], i["is_current"], i["chosen_by"]) for i in both} == {
        (3100000, False, None),
        (3120000, True, "status"),
    }


async def test_notes_for_answers_per_observation_in_chunks(served: Served, world: World) -> None:
    async for session in session_scope(served.db):
        # ids far beyond any chunk: one statement per chunk, unknown ids simply absent
        found = await notes_for(session, [*range(10**6, 10**6 + 45_000), world.ids["2022"]])
        assert list(found) == [world.ids["2022"]]
        assert [n.rule for n in found[world.ids["2022"]]] == [
            "implausible_level",
            "change_vs_levels",
        ]
        assert await notes_for(session, []) == {}


async def test_series_points_carry_flags_and_chosen_by(served: Served, world: World) -> None:
    response = await served.http.get(f"/v1/indicators/{INDICATOR}/series", params={"area": AREA})
    assert response.status_code == 200, response.text
    points = [SeriesPoint.model_validate(point) for point in response.json()]
    by_period = {point.period: point for point in points}
    assert [n.model_dump() for n in by_period["2023"].quality] == [
        note(world, "change_vs_levels"),
        note(world, "revised_estimate"),
    ]
    assert [(p.period, p.chosen_by) for p in points] == [
        ("2020", "only"),
        ("2021", "only"),
        ("2022", "only"),
        ("2023", "status"),
    ]
    # paged, the flags stay with their points
    first = await served.http.get(
        f"/v1/indicators/{INDICATOR}/series", params={"area": AREA, "limit": 3}
    )
    rest = await served.http.get(
        f"/v1/indicators/{INDICATOR}/series",
        params={"area": AREA, "limit": 3, "cursor": first.headers["X-Next-Cursor"]},
    )
    assert first.json() + rest.json() == response.json()


async def test_csv_has_open_flags_and_chosen_by(served: Served, world: World) -> None:
    response = await observations_csv(served.http)
    rows = {row["period"]: row for row in csv.DictReader(io.StringIO(response.text))}
    assert {period: (row["chosen_by"], row["quality"]) for period, row in rows.items()} == {
        "2020": ("only", ""),
        "2021": ("only", "implausible_jump:info"),
        "2022": ("only", "implausible_level:error change_vs_levels:warning"),
        "2023": ("status", "change_vs_levels:warning"),  # the resolved flag is not listed
    }
    assert rows["2023"]["sources"] == "nghe-an-2024.txt:230-239"


async def test_sdmx_quality_flag_attribute(served: Served, world: World) -> None:
    structure = await served.http.get(
        "/sdmx/2.1/datastructure/CHISO/DSD_PROVINCE_ICT/latest", params={"references": "all"}
    )
    assert structure.status_code == 200, structure.text
    message = sdmx.read_sdmx(io.BytesIO(structure.content))
    assert isinstance(message, StructureMessage)
    dsd = message.structure["DSD_PROVINCE_ICT"]
    assert "QUALITY_FLAG" in dsd.attributes
    assert "QUALITY_FLAG" in message.concept_scheme["CS_PROVINCE_ICT"]
    expected = {
        "2020": None,
        "2021": "implausible_jump",
        "2022": "implausible_level change_vs_levels",
        "2023": "change_vs_levels",
    }
    data_path = f"/sdmx/2.1/data/DF_PROVINCE_ICT/{KEY}"

    for format in ("genericdata", "structurespecificdata"):
        response = await served.http.get(data_path, params={"format": format})
        assert response.status_code == 200, response.text
        read = sdmx.read_sdmx(io.BytesIO(response.content), structure=dsd)
        assert isinstance(read, DataMessage)
        (series,) = read.data[0].series.values()
        flags = {
            str(obs.dimension.values["TIME_PERIOD"].value): _attribute(obs, "QUALITY_FLAG")
            for obs in series
        }
        assert flags == expected, format

    response = await served.http.get(data_path, params={"format": "jsondata"})
    read = sdmx.read_sdmx(io.BytesIO(response.content), format="JSON")
    assert isinstance(read, DataMessage)
    (series,) = read.data[0].series.values()
    flags = {
        str(obs.dimension.values["TIME_PERIOD"].value): _attribute(obs, "QUALITY_FLAG")
        for obs in series
    }
    assert flags == expected

    response = await served.http.get(data_path, params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["TIME_PERIOD"]: row["QUALITY_FLAG"] or None for row in rows} == expected
    dataonly = await served.http.get(data_path, params={"format": "csv", "detail": "dataonly"})
    assert "QUALITY_FLAG" not in dataonly.text


def _attribute(obs: Any, name: str) -> str | None:
    value = obs.attached_attribute.get(name)
    return None if value is None else str(value.value)


async def test_dhis2_comment_and_followup(served: Served, world: World) -> None:
    async def exported(**params: Any) -> dict[str, dict[str, Any]]:
        response = await served.http.get(
            "/dhis2/api/dataValueSets.json",
            params={"dataElement": INDICATOR, "orgUnit": AREA, **params},
        )
        assert response.status_code == 200, response.text
        return {
            v["period"]: v
            for v in response.json()["dataValues"]
            if v["categoryOptionCombo"] == "LEVEL_COUNT"
        }

    flags = world.filed
    values = await exported()
    assert {p: (v["comment"], v["followup"]) for p, v in values.items()} == {
        "2020": ("OBS_STATUS:A", False),
        "2021": (f"OBS_STATUS:A; {flags['implausible_jump'].message_en}", False),  # info only
        "2022": (
            f"OBS_STATUS:A; {flags['implausible_level'].message_en}; "
            f"{flags['change_vs_levels'].message_en}",
            True,
        ),
        # the resolved flag neither comments nor asks for a follow-up
        "2023": (f"OBS_STATUS:A; {flags['change_vs_levels'].message_en}", True),
    }
    in_vietnamese = await exported(locale="vi")
    assert in_vietnamese["2023"]["comment"] == (
        f"OBS_STATUS:A; {flags['change_vs_levels'].message_vi}"
    )
    as_csv = await served.http.get(
        "/dhis2/api/dataValueSets.csv", params={"dataElement": INDICATOR, "orgUnit": AREA}
    )
    rows = {r["period"]: r for r in csv.DictReader(io.StringIO(as_csv.text))}
    assert (rows["2022"]["followup"], rows["2020"]["followup"]) == ("true", "false")
    assert rows["2022"]["comment"] == values["2022"]["comment"]

    # The export reads back: the status still comes out of the comment.
    back = await served.http.post(
        "/dhis2/api/dataValueSets",
        params={"dryRun": "true"},
        json={"dataValues": list(values.values())},
    )
    assert back.status_code == 200, back.text
    summary = back.json()["response"]
    assert (summary["status"], summary["conflicts"]) == ("SUCCESS", [])


async def chosen(http: httpx.AsyncClient, period: str = "2023") -> tuple[float, str | None]:
    (item,) = await observations(http, start_period=period, end_period=period)
    return item["value"], item["chosen_by"]


async def test_chosen_by_publication(served: Served) -> None:
    later = {**NEW, "published": "2024-06-01"}
    await post(
        served.http,
        level("2023", 3100000),
        level("2023", 3050000, doc=later),
        documents=[OLD, later],
    )
    # the same status: the later report wins, though its value is lower
    assert await chosen(served.http) == (3050000, "publication")


async def test_chosen_by_value_when_status_and_publication_tie(served: Served) -> None:
    same_day = {**NEW, "published": OLD["published"]}
    await post(
        served.http,
        level("2023", 3100000),
        level("2023", 3050000, doc=same_day),
        documents=[OLD, same_day],
    )
    assert await chosen(served.http) == (3100000, "value")


async def test_chosen_by_reviewed(served: Served) -> None:
    machine = level("2023", 3100000)
    await post(served.http, machine, level("2023", 3200000, doc=NEW), documents=[OLD, NEW])
    assert await chosen(served.http) == (3200000, "publication")
    review = {"action": "correct", "by": "ch_reviewer", "at": datetime.now(UTC).isoformat()}
    corrected = {**machine, "value": 3150000, "status": "estimate", "review": review}
    await post(served.http, corrected, documents=[OLD], withdrawn=[machine])
    # an older estimate, but a person's: it beats the newer actual
    assert await chosen(served.http) == (3150000, "reviewed")


async def test_chosen_by_status_and_only(served: Served) -> None:
    await post(served.http, level("2023", 3100000, status="estimate"), documents=[OLD])
    assert await chosen(served.http) == (3100000, "only")
    # an actual in an older-dated report still beats the estimate
    older = {**NEW, "published": "2023-06-01"}
    await post(served.http, level("2023", 3090000, doc=older), documents=[older])
    assert await chosen(served.http) == (3090000, "status")


async def test_a_flag_the_checks_raise_on_import_shows_on_the_reads(
    tmp_path: Path, indicators_db: str
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as http:
        # two reports, the same status, values 1.6% apart: conflicting_values
        await post(
            http, level("2023", 3100000), level("2023", 3050000, doc=NEW), documents=[OLD, NEW]
        )
        (item,) = await observations(http)
        assert (item["value"], item["chosen_by"]) == (3050000, "publication")
        assert [(n["rule"], n["severity"], n["status"]) for n in item["quality"]] == [
            ("conflicting_values", "warning", "open")
        ]
        flag = (await http.get(f"/v1/quality/{item['quality'][0]['flag_id']}")).json()
        assert flag["message_en"] == item["quality"][0]["message_en"]
        (row,) = csv.DictReader(io.StringIO((await observations_csv(http)).text))
        assert row["quality"] == "conflicting_values:warning"
        exported = await http.get(
            "/dhis2/api/dataValueSets.json", params={"dataElement": INDICATOR, "orgUnit": AREA}
        )
        (value,) = exported.json()["dataValues"]
        assert value["followup"] is True
        assert value["comment"] == f"OBS_STATUS:A; {flag['message_en']}"


async def observations_csv(http: httpx.AsyncClient) -> httpx.Response:
    response = await http.get(
        "/v1/observations",
        params={"indicator": INDICATOR, "area": AREA, "transformation": "level", "format": "csv"},
    )
    assert response.status_code == 200, response.text
    return response
