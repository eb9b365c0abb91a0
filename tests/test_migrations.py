"""Each service's Alembic tree builds exactly the schema its models describe."""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, inspect, text
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


@pytest.mark.asyncio
async def test_area_codes_move_to_the_gsos_with_their_series_and_clients(
    tmp_path: Path,
) -> None:
    """Stored before issue 19, a series of `VN-38` and a client of `VN-46` come out of the
    upgrade under `38` and `46`, nothing else changed; downgrading gives the old codes back."""
    from chiso_gateway import db as gateway_db
    from chiso_indicators import db as indicators_db
    from chiso_shared.db import alembic_config, upgrade

    async def rows(url: str, query: str) -> list[tuple[object, ...]]:
        engine = create_engine(url)
        async with engine.connect() as connection:
            found = [tuple(row) for row in (await connection.execute(text(query))).all()]
        await engine.dispose()
        return found

    async def run(url: str, *statements: str) -> None:
        engine = create_engine(url)
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
        await engine.dispose()

    with fresh_database(tmp_path, "indicators") as url:
        migrations, table = indicators_db.MIGRATIONS, indicators_db.VERSION_TABLE
        await asyncio.to_thread(upgrade, migrations, url, table, "65f67a7f3361")
        await run(
            url,
            "INSERT INTO indicators (code, unit, name_vi, name_en, reference) "
            "VALUES ('telecom.subscribers.total', 'count', 'a', 'b', '')",
            "INSERT INTO areas (code, name_vi, name_en, level, code_list, successor) VALUES "
            "('VN', 'Việt Nam', 'Viet Nam', 'country', '', ''), "
            "('VN-38', 'Thanh Hóa', 'Thanh Hoa', 'province', '2025', ''), "
            "('VN-27', 'Bắc Ninh', 'Bac Ninh', 'province', '2004', 'VN-24')",
            "INSERT INTO area_versions (code, code_list, name_vi, name_en, successor) VALUES "
            "('VN-38', '2004', 'Thanh Hóa', 'Thanh Hoa', 'VN-38'), "
            "('VN-27', '2004', 'Bắc Ninh', 'Bac Ninh', 'VN-24')",
            "INSERT INTO series (indicator_code, area_code, frequency, measure, transformation, "
            "unit) VALUES ('telecom.subscribers.total', 'VN-38', 'A', 'actual', 'level', "
            "'count'), ('telecom.subscribers.total', 'VN', 'A', 'actual', 'level', 'count')",
        )
        await asyncio.to_thread(upgrade, migrations, url, table)
        assert await rows(url, "SELECT code, successor FROM areas ORDER BY code") == [
            ("27", "24"),
            ("38", ""),
            ("VN", ""),
        ]
        assert await rows(url, "SELECT code, successor FROM area_versions ORDER BY code") == [
            ("27", "24"),
            ("38", "38"),
        ]
        assert await rows(url, "SELECT id, area_code FROM series ORDER BY id") == [
            (1, "38"),
            (2, "VN"),
        ]
        config = alembic_config(migrations, url, table)
        await asyncio.to_thread(command.downgrade, config, "65f67a7f3361")
        assert await rows(url, "SELECT id, area_code FROM series ORDER BY id") == [
            (1, "VN-38"),
            (2, "VN"),
        ]

    with fresh_database(tmp_path, "gateway") as url:
        migrations, table = gateway_db.MIGRATIONS, gateway_db.VERSION_TABLE
        await asyncio.to_thread(upgrade, migrations, url, table, "d4e9a2c7f1b8")
        await run(
            url,
            "INSERT INTO clients (client_id, name, org, area, tier, scopes, secret_salt, "
            "secret_hash, created_at) VALUES "
            "('ch_1', 'a', '', 'VN-46', 'standard', '', 's', 'h', '2026-01-01'), "
            "('ch_2', 'b', '', 'VN', 'standard', '', 's', 'h', '2026-01-01'), "
            "('ch_3', 'c', '', '', 'standard', '', 's', 'h', '2026-01-01')",
        )
        await asyncio.to_thread(upgrade, migrations, url, table)
        assert await rows(url, "SELECT area FROM clients ORDER BY client_id") == [
            ("46",),
            ("VN",),
            ("",),
        ]
