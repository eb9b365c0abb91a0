"""Upgrading a database with facts already stored: the queue columns are filled from each
fact's JSON, and reviews start empty."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import bindparam, text

from chiso_ingest.db import MIGRATIONS, VERSION_TABLE
from chiso_shared.db import UtcTimestamp, alembic_config, create_engine


@pytest.mark.asyncio
async def test_stored_facts_get_their_queue_columns(ingest_db: str) -> None:
    config = alembic_config(MIGRATIONS, ingest_db, VERSION_TABLE)
    await asyncio.to_thread(command.upgrade, config, "5d2e8f1a7c3b")
    doubted = {"start": 5, "doubts": ["unit_inferred", "scope_defaulted"], "confidence": 0.52}
    before_doubts = {"start": 9, "scope": "VN-40"}  # stored before facts had doubts
    engine = create_engine(ingest_db)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO documents (id, content_hash, filename, media_type, size_bytes, "
                    "text, status, fact_count, created_at, updated_at) VALUES ('d1', 'h', "
                    "'a.txt', 'text/plain', 1, 'x', 'delivered', 2, :now, :now)"
                ).bindparams(bindparam("now", type_=UtcTimestamp())),
                {"now": datetime(2026, 12, 1, tzinfo=UTC)},
            )
            for data in (doubted, before_doubts):
                await connection.execute(
                    text(
                        "INSERT INTO facts (document_id, extractor_version, start, data) "
                        "VALUES ('d1', '0.7.0', :start, :data)"
                    ),
                    {"start": data["start"], "data": json.dumps(data)},
                )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT start, confidence, doubt_count, scope FROM facts ORDER BY start")
            )
            assert [tuple(row) for row in rows] == [(5, 0.52, 2, None), (9, 1.0, 0, "VN-40")]
            uploaded = await connection.scalar(text("SELECT uploaded_by FROM documents"))
            assert uploaded is None
            assert await connection.scalar(text("SELECT count(*) FROM reviews")) == 0
    finally:
        await engine.dispose()
