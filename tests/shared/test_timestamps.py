"""Times read back from the database carry their UTC offset on SQLite as on PostgreSQL (the
`UtcTimestamp` column type), so every service's JSON states the instant, not a wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import render_python_code
from alembic.operations import ops
from sqlalchemy import Column, Integer, MetaData, Table, select

from chiso_gateway.main import create_app as create_gateway
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from chiso_shared import db
from tests.gateway.support import bearer, gateway_settings, new_client
from tests.support import fact, free_port, fresh_database, running

pytestmark = pytest.mark.asyncio


def assert_utc(stamp: str) -> None:
    """An ISO 8601 time with an explicit zero offset (pydantic writes UTC as `Z`)."""
    assert stamp.endswith("Z"), stamp
    parsed = datetime.fromisoformat(stamp)
    assert parsed.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - parsed) < timedelta(hours=1)


async def test_indicators_times_carry_their_offset(tmp_path: Path, indicators_db: str) -> None:
    settings = IndicatorsSettings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_indicators(settings)) as client:
        batch = {"documents": [{"id": "d1", "name": "a.txt"}], "facts": [fact(doc="a.txt")]}
        assert (await client.post("/v1/facts", json=batch)).status_code == 200
        item = (await client.get("/v1/observations")).json()["items"][0]
        assert_utc(item["recorded_at"])
        assert_utc((await client.get("/v1/revision")).json()["updated_at"])
        value = (await client.get("/dhis2/api/dataValueSets")).json()["dataValues"][0]
        assert datetime.fromisoformat(value["lastUpdated"]).utcoffset() == timedelta(0)


async def test_ingest_times_carry_their_offset(tmp_path: Path, ingest_db: str) -> None:
    settings = IngestSettings(data_dir=tmp_path, database_url=ingest_db, run_worker=False)
    async with running(create_ingest(settings)) as client:
        body = {"filename": "a.txt", "text": "Năm 2023 có 3.100.000 thuê bao."}
        accepted = await client.post("/v1/documents", json=body)
        assert accepted.status_code == 202, accepted.text
        document = (await client.get(f"/v1/documents/{accepted.json()['id']}")).json()
        assert_utc(document["created_at"])
        assert_utc(document["updated_at"])


async def test_gateway_times_carry_their_offset(tmp_path: Path, gateway_db: str) -> None:
    settings = gateway_settings(tmp_path, gateway_db, f"http://127.0.0.1:{free_port()}")
    async with running(create_gateway(settings)) as client:
        client.headers.update(await bearer(client, await new_client(settings, ["audit:read"])))
        assert (await client.get("/v1/audit")).status_code == 200
        rows = (await client.get("/v1/audit")).json()["data"]
        assert rows
        for row in rows:
            assert_utc(row["ts"])


async def test_a_time_in_another_offset_is_stored_as_its_utc_instant(tmp_path: Path) -> None:
    """SQLite keeps a wall clock: without the conversion, 07:00+07:00 would be stored as 07:00
    and compare after 06:00 UTC."""
    table = Table(
        "times",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("at", db.UtcTimestamp()),
    )
    hanoi = timezone(timedelta(hours=7))
    with fresh_database(tmp_path, "times") as url:
        engine = db.create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(table.metadata.create_all)
                await connection.execute(
                    table.insert(), [{"at": datetime(2024, 1, 1, 7, tzinfo=hanoi)}]
                )
                stored = await connection.scalar(select(table.c.at))
                later = datetime(2024, 1, 1, 1, tzinfo=UTC)
                count = await connection.scalar(select(table.c.id).where(table.c.at < later))
        finally:
            await engine.dispose()
    assert stored == datetime(2024, 1, 1, 0, tzinfo=UTC)
    assert stored.tzinfo == UTC
    assert count == 1


async def test_a_generated_migration_writes_the_plain_column_type() -> None:
    """Autogenerate renders `UtcTimestamp` as `sa.DateTime(timezone=True)`, so a new migration
    needs no import of chiso_shared and keeps working if the type moves."""
    table = Table("t", MetaData(), Column("at", db.UtcTimestamp()))
    upgrade = ops.UpgradeOps(ops=[ops.CreateTableOp.from_table(table)])
    code = render_python_code(upgrade, render_item=db.render_item)
    assert "sa.Column('at', sa.DateTime(timezone=True)" in code
