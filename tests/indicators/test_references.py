"""Observations and provenance never refer to missing rows: foreign keys on SQLite, set-based
triggers on PostgreSQL (migration 9b1d3c2e7f40); the same refusals on both."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings
from chiso_shared.db import create_engine
from tests.support import fact, running

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
            with pytest.raises(DBAPIError, match="(?i)foreign key|refer|immutable"):
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
