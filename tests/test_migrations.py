"""Each service's Alembic tree builds exactly the schema its models describe."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection

from chiso_shared.db import create_engine
from tests.support import fresh_database, postgres_url


@pytest.mark.asyncio
@pytest.mark.parametrize("service", ["ingest", "indicators", "gateway"])
async def test_migrations_match_models(tmp_path: Path, service: str) -> None:
    db = importlib.import_module(f"chiso_{service}.db")
    models = importlib.import_module(f"chiso_{service}.db.models")
    metadata: MetaData = getattr(models, f"{service.capitalize()}Base").metadata
    with fresh_database(tmp_path, service) as url:
        await db.migrate_async(url)
        await db.migrate_async(url)  # a second run is a no-op
        engine = create_engine(url)

        def diff(connection: Connection) -> list[object]:
            # Nothing is left out: every foreign key the models declare is a constraint.
            opts = {"compare_type": True, "version_table": db.VERSION_TABLE}
            context = MigrationContext.configure(connection, opts=opts)
            return list(compare_metadata(context, metadata))

        def tables(connection: Connection) -> set[str]:
            return set(inspect(connection).get_table_names())

        async with engine.connect() as connection:
            assert await connection.run_sync(diff) == []
            assert db.VERSION_TABLE in await connection.run_sync(tables)
        await engine.dispose()


def test_replicas_migrating_at_once_all_succeed(tmp_path: Path) -> None:
    """Pods that start together each run `chiso migrate`; none may fail on PostgreSQL."""
    if postgres_url() is None:
        pytest.skip("a SQLite file belongs to one process; replicas need PostgreSQL")
    with fresh_database(tmp_path, "indicators") as url:
        env = {**os.environ, "CHISO_INDICATORS_DATABASE_URL": url}
        command = [sys.executable, "-m", "chiso", "migrate", "indicators"]
        processes = [
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        results = [(process.wait(timeout=120), process.stderr) for process in processes]
        errors = [stderr.read().decode()[-2000:] if stderr else "" for _, stderr in results]
        for _, stderr in results:
            if stderr:
                stderr.close()
        assert [code for code, _ in results] == [0, 0, 0, 0], errors
