"""A migration role and a runtime role: the service's own database user cannot change the schema.

On a real PostgreSQL (skipped without CHISO_TEST_POSTGRES_URL): two fresh roles, a database
owned by the migrating one, `chiso migrate` run as it with DATABASE_RUNTIME_ROLE naming the
other; then the service runs as the runtime role and serves a real write, while DDL from that
role fails with PostgreSQL's permission error, and tables later migrations create are
writable by it too.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from chiso_indicators import db as indicators_db
from chiso_indicators.main import create_app
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_shared.db import alembic_config
from chiso_shared.db_roles import RuntimeRoleError, check_role_name
from tests.support import SERVICES, _admin, _in_thread, fact, postgres_url, running

REPO = Path(__file__).resolve().parents[1]
SCHEMA_WARNING = "could change the schema"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Roles:
    migrator: str
    runtime: str
    database: str
    server: str  # the test server's URL (a superuser)

    def url(self, role: str) -> str:
        return (
            make_url(self.server)
            .set(username=role, password=None, database=self.database)
            .render_as_string(hide_password=False)
        )

    def dsn(self, role: str | None = None) -> str:
        url = make_url(self.server).set(drivername="postgresql", database=self.database)
        if role is not None:
            url = url.set(username=role, password=None)
        return url.render_as_string(hide_password=False)


@pytest.fixture
def roles() -> Iterator[Roles]:
    server = postgres_url()
    if server is None:
        pytest.skip("database roles need PostgreSQL (CHISO_TEST_POSTGRES_URL)")
    tag = uuid.uuid4().hex[:10]
    # A runtime role whose name needs quoting: the grants must not be built by pasting it.
    found = Roles(
        migrator=f"chiso_migrator_{tag}",
        runtime=f'Chiso Run "{tag}"; x',
        database=f"chiso_test_{tag}_roles",
        server=server,
    )
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    _in_thread(_admin(admin, f"CREATE ROLE {quote(found.migrator)} LOGIN"))
    _in_thread(_admin(admin, f"CREATE ROLE {quote(found.runtime)} LOGIN"))
    try:
        _in_thread(
            _admin(admin, f"CREATE DATABASE {quote(found.database)} OWNER {quote(found.migrator)}")
        )
        try:
            # PostgreSQL 15 grants PUBLIC no CREATE on `public`; older ones do, and the
            # DBA revokes it (README). The same here, whatever the server's version.
            _in_thread(_admin(found.dsn(), "REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
            yield found
        finally:
            _in_thread(
                _admin(admin, f"DROP DATABASE IF EXISTS {quote(found.database)} WITH (FORCE)")
            )
    finally:
        _in_thread(_admin(admin, f"DROP ROLE IF EXISTS {quote(found.runtime)}"))
        _in_thread(_admin(admin, f"DROP ROLE IF EXISTS {quote(found.migrator)}"))


def chiso_migrate(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chiso", "migrate", service],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=REPO,
    )


def migration_env(service: str, roles: Roles, runtime_role: str | None = None) -> dict[str, str]:
    own = f"CHISO_{service.upper()}_"
    return {
        own + "MIGRATION_DATABASE_URL": roles.url(roles.migrator),
        own + "DATABASE_URL": roles.url(roles.runtime),
        own + "DATABASE_RUNTIME_ROLE": roles.runtime if runtime_role is None else runtime_role,
    }


async def refused(dsn: str, statement: str) -> bool:
    """Whether PostgreSQL refuses `statement` for lack of privilege (42501)."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    except asyncpg.InsufficientPrivilegeError:
        return True
    finally:
        await connection.close()
    return False


async def fetch(dsn: str, query: str, *args: object) -> list[tuple[object, ...]]:
    connection = await asyncpg.connect(dsn)
    try:
        return [tuple(row) for row in await connection.fetch(query, *args)]
    finally:
        await connection.close()


async def table_privileges(roles: Roles, table: str) -> set[str]:
    every = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    rows = await fetch(
        roles.dsn(),
        "SELECT p FROM unnest($2::text[]) p WHERE has_table_privilege($1, $3, p)",
        roles.runtime,
        list(every),
        table,
    )
    return {str(row[0]) for row in rows}


@pytest.mark.asyncio
async def test_runtime_role_writes_rows_but_cannot_change_the_schema(
    roles: Roles, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = await asyncio.to_thread(
        chiso_migrate, "indicators", migration_env("indicators", roles)
    )
    assert result.returncode == 0, result.stderr[-3000:]

    runtime = roles.dsn(roles.runtime)
    owners = await fetch(
        roles.dsn(), "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
    )
    assert owners == [(roles.migrator,)]

    # The service as the runtime role, in prod: reference data at start, a real import.
    settings = IndicatorsSettings(
        env="prod",
        data_dir=tmp_path,
        database_url=roles.url(roles.runtime),
        migrate_on_start=False,
    )
    async with running(create_app(settings)) as client:
        response = await client.post(
            "/v1/facts",
            json={"documents": [{"id": "d1", "name": "nghe-an-2023.txt"}], "facts": [fact()]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["imported"] == 1
        read = await client.get("/v1/observations", params={"area": "40"})
        assert [item["value"] for item in read.json()["items"]] == [3100000]
    # The service's JSON logs (its own handler on stderr): no warning about this role.
    assert SCHEMA_WARNING not in capfd.readouterr().err

    for statement in (
        "CREATE TABLE intruder (id integer)",
        "ALTER TABLE observations ADD COLUMN intruder integer",
        "DROP TABLE provenance",
        "TRUNCATE observations CASCADE",
        "CREATE INDEX intruder ON series (unit)",
        "UPDATE alembic_version_indicators SET version_num = 'x'",
        "DELETE FROM alembic_version_indicators",
    ):
        assert await refused(runtime, statement), statement
    # The revision is readable, so a tool running as the runtime role sees the schema current.
    assert await fetch(runtime, "SELECT count(*) FROM alembic_version_indicators") == [(1,)]
    assert await table_privileges(roles, "observations") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert await table_privileges(roles, "alembic_version_indicators") == {"SELECT"}


@pytest.mark.asyncio
async def test_tables_of_a_later_migration_are_the_runtime_roles_to_write_too(
    roles: Roles,
) -> None:
    result = await asyncio.to_thread(
        chiso_migrate, "indicators", migration_env("indicators", roles)
    )
    assert result.returncode == 0, result.stderr[-3000:]

    # A later migration run WITHOUT the grants (an `alembic upgrade` by hand, say): the
    # tables it creates get the runtime rights from the default privileges alone.
    def again_without_grants() -> None:
        config = alembic_config(
            indicators_db.MIGRATIONS, roles.url(roles.migrator), indicators_db.VERSION_TABLE
        )
        command.downgrade(config, "b7c1e4d2a9f3")  # drops quality_flags and its link table
        command.upgrade(config, "head")  # creates them again

    await asyncio.to_thread(again_without_grants)
    for table in ("quality_flags", "quality_flag_observations"):
        assert await table_privileges(roles, table) == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    sequences = await fetch(
        roles.dsn(),
        "SELECT sequencename, has_sequence_privilege($1, sequencename, 'USAGE') "
        "FROM pg_sequences WHERE schemaname = 'public' AND sequencename LIKE 'quality_flag%'",
        roles.runtime,
    )
    assert sequences and all(usable for _, usable in sequences), sequences

    runtime = roles.dsn(roles.runtime)
    assert await fetch(runtime, "SELECT count(*) FROM quality_flags") == [(0,)]
    assert await refused(runtime, "DROP TABLE quality_flag_observations")
    assert await refused(runtime, "ALTER TABLE quality_flags DROP COLUMN rule")

    # And `chiso migrate` again (a no-op upgrade) keeps the grants exact.
    result = await asyncio.to_thread(
        chiso_migrate, "indicators", migration_env("indicators", roles)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # A tool in the service's pod has only the runtime URL: the schema is current, so its
    # migration (as `chiso clients create` runs first) is a no-op that succeeds.
    runtime_only = migration_env("indicators", roles)
    runtime_only["CHISO_INDICATORS_MIGRATION_DATABASE_URL"] = ""
    result = await asyncio.to_thread(chiso_migrate, "indicators", runtime_only)
    assert result.returncode == 0, result.stderr[-3000:]
    assert await table_privileges(roles, "quality_flags") == {
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("service", [s for s in SERVICES if s != "indicators"])
async def test_every_service_grants_its_runtime_role(roles: Roles, service: str) -> None:
    result = await asyncio.to_thread(chiso_migrate, service, migration_env(service, roles))
    assert result.returncode == 0, result.stderr[-3000:]
    runtime = roles.dsn(roles.runtime)
    tables = await fetch(roles.dsn(), "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    version_table = f"alembic_version_{service}"
    for (table,) in tables:
        expected = (
            {"SELECT"} if table == version_table else {"SELECT", "INSERT", "UPDATE", "DELETE"}
        )
        assert await table_privileges(roles, str(table)) == expected, table
    assert await refused(runtime, "CREATE TABLE intruder (id integer)")
    assert await refused(runtime, f"DROP TABLE {tables[0][0]}")


@pytest.mark.asyncio
async def test_a_role_that_cannot_be_the_runtime_one_is_refused_and_nothing_migrates(
    roles: Roles,
) -> None:
    for role, says in (
        ("chiso_no_such_role_x", "there is no PostgreSQL role"),
        (roles.migrator, "is the role that migrates"),
    ):
        env = migration_env("indicators", roles, runtime_role=role)
        result = await asyncio.to_thread(chiso_migrate, "indicators", env)
        assert result.returncode == 2, result.stderr[-3000:]
        assert says in result.stderr and "Traceback" not in result.stderr
        # The grants are in the migration's transaction: refused, nothing was created.
        assert await fetch(
            roles.dsn(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ) == [(0,)]


def test_runtime_role_is_ignored_on_sqlite(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'indicators.db'}"
    with caplog.at_level(logging.INFO, logger="chiso.db"):
        indicators_db.migrate(url, runtime_role="chiso_app")
    assert (tmp_path / "indicators.db").is_file()
    assert any("ignored on sqlite" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("name", ["", " app", "app\x00", "app\nx", "a" * 64, "ố" * 22])
def test_role_names_postgresql_would_change_are_refused(name: str) -> None:
    with pytest.raises(RuntimeRoleError):
        check_role_name(name)


def test_a_role_name_of_63_bytes_is_taken() -> None:
    check_role_name("ố" * 21)  # 63 bytes
    check_role_name('Chiso "Run"; DROP TABLE x')  # quoted, never pasted


@pytest.mark.asyncio
async def test_prod_warns_when_the_service_runs_as_the_schema_owner(
    roles: Roles, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = IndicatorsSettings(
        env="prod",
        data_dir=tmp_path,
        database_url=roles.url(roles.migrator),
        migrate_on_start=True,
    )
    async with running(create_app(settings)) as client:
        assert (await client.get("/healthz")).status_code == 200
    warnings = [line for line in capfd.readouterr().err.splitlines() if SCHEMA_WARNING in line]
    assert len(warnings) == 1 and "owns tables" in warnings[0]


@pytest.mark.asyncio
async def test_ingest_runs_its_queue_as_the_runtime_role(roles: Roles, tmp_path: Path) -> None:
    """An upload as the runtime role, and the worker's claim, extraction and outbox writes
    (row locks, updates, deletes): what ingest does with its tables, without DDL rights."""
    from chiso_ingest.main import create_app as create_ingest
    from chiso_ingest.settings import Settings as IngestSettings
    from tests.support import free_port

    result = await asyncio.to_thread(chiso_migrate, "ingest", migration_env("ingest", roles))
    assert result.returncode == 0, result.stderr[-3000:]
    settings = IngestSettings(
        env="prod",
        data_dir=tmp_path,
        database_url=roles.url(roles.runtime),
        migrate_on_start=False,
        poll_interval=0.05,
        indicators_url=f"http://127.0.0.1:{free_port()}",  # nothing there: delivery waits
    )
    report = "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao."
    async with running(create_ingest(settings)) as client:
        response = await client.post(
            "/v1/documents",
            json={"filename": "bao-cao.txt", "text": report, "published": "2023-12-20"},
        )
        assert response.status_code == 202, response.text
        url = f"/v1/documents/{response.json()['id']}"
        for _ in range(600):
            status = (await client.get(url)).json()["status"]
            if status not in ("queued", "extracting"):
                break
            await asyncio.sleep(0.1)
        assert status == "extracted", status
        facts = (await client.get(f"{url}/facts")).json()["facts"]
        assert [f["value"] for f in facts if f["indicator"]] == [3100000]
    assert await fetch(roles.dsn(), "SELECT count(*) FROM outbox") == [(1,)]
