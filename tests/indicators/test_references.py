"""Observations and provenance never refer to missing rows: declared foreign keys on SQLite and
PostgreSQL (migration a75bc607e009 put them back where 9b1d3c2e7f40 had triggers)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from chiso_indicators.db import MIGRATIONS, VERSION_TABLE, migrate
from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from chiso_shared.db import alembic_config, create_engine
from tests.support import fact, postgres_url, running

pytestmark = pytest.mark.asyncio

REFUSED = [
    "INSERT INTO observations (series_id, period, value, status, published, fingerprint,"
    " is_current, recorded_at) VALUES (999999, '2023', 1, 'A', '', 'x', false, CURRENT_TIMESTAMP)",
    'INSERT INTO provenance (observation_id, document_id, start, "end", text, recorded_at)'
    " SELECT id, 'no-such-document', 0, 1, 'x', CURRENT_TIMESTAMP FROM observations",
    'INSERT INTO provenance (observation_id, document_id, start, "end", text, recorded_at)'
    " SELECT 999999, document_id, 7, 8, 'x', CURRENT_TIMESTAMP FROM provenance",
    "DELETE FROM documents",
    "DELETE FROM series",
    "DELETE FROM observations",
    "UPDATE provenance SET observation_id = 999999",
    "UPDATE provenance SET document_id = 'no-such-document'",
    "UPDATE observations SET series_id = 999999",
    "UPDATE observations SET id = id + 1000",
    "UPDATE documents SET id = 'renamed'",
]


@pytest.mark.parametrize("statement", REFUSED)
async def test_references_cannot_be_broken(
    tmp_path: Path, indicators_db: str, statement: str
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as client:
        batch = {"documents": [{"id": "d1", "name": "a.txt"}], "facts": [fact(doc="a.txt")]}
        assert (await client.post("/v1/facts", json=batch)).status_code == 200
    engine = create_engine(indicators_db)
    try:
        async with engine.connect() as connection:
            with pytest.raises(IntegrityError, match="(?i)foreign key"):
                await connection.execute(text(statement))
            await connection.rollback()
            counts = [
                await connection.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("documents", "series", "observations", "provenance")
            ]
            assert counts == [1, 1, 1, 1]
    finally:
        await engine.dispose()


async def test_rows_that_refer_to_existing_rows_are_accepted(
    tmp_path: Path, indicators_db: str
) -> None:
    """The checks are not a blanket refusal: a source added by hand for a stored value goes in."""
    settings = Settings(data_dir=tmp_path, database_url=indicators_db)
    async with running(create_app(settings)) as client:
        batch = {"documents": [{"id": "d1", "name": "a.txt"}], "facts": [fact(doc="a.txt")]}
        assert (await client.post("/v1/facts", json=batch)).status_code == 200
    engine = create_engine(indicators_db)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    'INSERT INTO provenance (observation_id, document_id, start, "end", text,'
                    " recorded_at) SELECT id, 'd1', 500, 509, 'x', CURRENT_TIMESTAMP"
                    " FROM observations"
                ),
            )
            assert await connection.scalar(text("SELECT count(*) FROM provenance")) == 2
    finally:
        await engine.dispose()


DECLARED = {
    ("observations", "series_id", "series"),
    ("provenance", "observation_id", "observations"),
    ("provenance", "document_id", "documents"),
}


def _foreign_keys(connection: Connection) -> set[tuple[str, str, str]]:
    inspector = inspect(connection)
    return {
        (table, key["constrained_columns"][0], key["referred_table"])
        for table in ("observations", "provenance")
        for key in inspector.get_foreign_keys(table)
    }


def _chiso_triggers(connection: Connection) -> list[str]:
    return list(
        connection.scalars(text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'chiso%'"))
    )


async def test_references_are_declared_foreign_keys(indicators_db: str) -> None:
    """The catalogue shows the constraints; no trigger stands in for them."""
    await _migrate(indicators_db)
    engine = create_engine(indicators_db)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_foreign_keys) == DECLARED
            if connection.dialect.name == "postgresql":
                assert await connection.run_sync(_chiso_triggers) == []
    finally:
        await engine.dispose()


async def test_downgrade_puts_the_triggers_back_and_upgrade_removes_them(
    indicators_db: str,
) -> None:
    if postgres_url() is None:
        pytest.skip("the triggers only ever existed on PostgreSQL")
    config = alembic_config(MIGRATIONS, indicators_db, VERSION_TABLE)
    await _migrate(indicators_db)
    await asyncio.to_thread(command.downgrade, config, "c4a7e2b91d05")
    engine = create_engine(indicators_db)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_foreign_keys) == set()
            assert len(await connection.run_sync(_chiso_triggers)) == 10
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            assert await connection.run_sync(_foreign_keys) == DECLARED
            assert await connection.run_sync(_chiso_triggers) == []
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    await asyncio.to_thread(migrate, url)
