"""Administrative tasks run in-process against a service's own database."""

from __future__ import annotations

import importlib
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chiso_gateway import audit
from chiso_gateway.auth import clients
from chiso_gateway.auth.clients import NewClient
from chiso_gateway.db import migrate_async as migrate_gateway
from chiso_gateway.settings import Settings as GatewaySettings
from chiso_shared.db import create_engine, create_sessionmaker

if TYPE_CHECKING:
    from chiso.running import RunningSuite


def migrate_service(service: str) -> str:
    """Migrate a service's database as its migration role (MIGRATION_DATABASE_URL, else
    DATABASE_URL), granting DATABASE_RUNTIME_ROLE its row access; the URL migrated."""
    settings = importlib.import_module(f"chiso_{service}.settings").Settings()
    url: str = settings.resolved_migration_database_url()
    importlib.import_module(f"chiso_{service}.db").migrate(url, settings.database_runtime_role)
    return url


async def _migrate_gateway(settings: GatewaySettings) -> None:
    await migrate_gateway(
        settings.resolved_migration_database_url(), settings.database_runtime_role
    )


def gateway_settings(
    data_dir: Path | None = None, database_url: str | None = None
) -> GatewaySettings:
    """Gateway settings from the environment, with the data dir or URL given overriding it."""
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    return GatewaySettings(**overrides)


class NoGatewayDatabase(RuntimeError):
    """No gateway database to manage clients in was named or found (a bilingual message)."""


def cli_gateway_settings(data_dir: Path | None) -> tuple[GatewaySettings, str | None]:
    """The gateway settings a `chiso clients`/`audit` command works on, and a note for the
    person when they were not the ones named.

    `--data-dir`, or `CHISO_GATEWAY_DATA_DIR`/`_DATABASE_URL`, win as given. Without them the
    running suite's data dir is used (what `chiso up --data-dir X` recorded), else `./.chiso`
    when it holds a gateway database; otherwise `NoGatewayDatabase`: a fresh database made
    there silently would hold clients that no running gateway reads.
    """
    from chiso.running import running_suites

    suites = running_suites()
    settings = gateway_settings(data_dir)
    if "database_url" in settings.model_fields_set:
        return settings, None  # the data dir holds no database then
    if "data_dir" in settings.model_fields_set:  # --data-dir, or CHISO_GATEWAY_DATA_DIR
        return settings, _elsewhere_note(settings.data_dir, suites)
    data_dirs = sorted({suite.data_dir for suite in suites})
    if len(data_dirs) == 1 and suites[0].gateway_database_url:
        gateway = suites[0].url("gateway")
        raise NoGatewayDatabase(
            f"gateway đang chạy ở {gateway} dùng cơ sở dữ liệu theo CHISO_GATEWAY_DATABASE_URL; "
            "hãy đặt biến đó ở đây (hoặc chỉ rõ --data-dir). / the gateway running at "
            f"{gateway} keeps its database at CHISO_GATEWAY_DATABASE_URL; set that variable "
            "here too (or give --data-dir)."
        )
    if len(data_dirs) == 1:
        gateway = suites[0].url("gateway")
        return gateway_settings(Path(data_dirs[0])), (
            f"dùng thư mục dữ liệu của chiso đang chạy (gateway {gateway}): {data_dirs[0]} / "
            f"using the data dir of the running suite (gateway {gateway}): {data_dirs[0]}"
        )
    if len(data_dirs) > 1:
        listed = ", ".join(data_dirs)
        raise NoGatewayDatabase(
            f"có nhiều chiso đang chạy ({listed}); chọn một bằng --data-dir. / "
            f"several chiso suites are running ({listed}); choose one with --data-dir."
        )
    database = settings.data_dir.resolve() / "gateway.db"
    if database.exists():
        return settings, None
    raise NoGatewayDatabase(
        f"không có chiso nào đang chạy và chưa có cơ sở dữ liệu gateway {database}; hãy chạy "
        "`chiso up` trước, hoặc chỉ rõ --data-dir (nếu thư mục đó chưa có, cơ sở dữ liệu mới "
        f"được tạo ở đó). / no chiso suite is running and there is no gateway database "
        f"{database}; start the suite (`chiso up`) first, or give --data-dir (a new database "
        "is created there if it has none)."
    )


def gateway_settings_or_exit(data_dir: Path | None) -> GatewaySettings:
    """`cli_gateway_settings` for a command: its note on stderr, its refusal as exit 2."""
    import typer

    try:
        settings, note = cli_gateway_settings(data_dir)
    except NoGatewayDatabase as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if note:
        typer.echo(note, err=True)
    return settings


def _elsewhere_note(data_dir: Path, suites: Collection[RunningSuite]) -> str | None:
    """A warning when a suite runs on another data dir than the one named: the clients made
    here would not sign in to it."""
    others = [s for s in suites if Path(s.data_dir) != data_dir.resolve()]
    if not others or len(others) < len(suites):
        return None
    gateway, theirs = others[0].url("gateway"), others[0].data_dir
    return (
        f"chú ý: gateway đang chạy ở {gateway} dùng thư mục dữ liệu {theirs}, không phải "
        f"{data_dir}; nó không đọc các client ở đây. / note: the gateway running at {gateway} "
        f"uses the data dir {theirs}, not {data_dir}; it does not read the clients here."
    )


async def create_client(
    name: str,
    scopes: list[str],
    org: str,
    settings: GatewaySettings,
    *,
    tier: str = "standard",
    area: str = "",
) -> NewClient:
    url = settings.resolved_database_url()
    await _migrate_gateway(settings)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            created = await clients.create(
                session, name, scopes, org=org, area=area, tier=tier, tiers=settings.quota_tiers
            )
            await session.commit()
            return created
    finally:
        await engine.dispose()


async def list_clients(settings: GatewaySettings) -> list[dict[str, Any]]:
    url = settings.resolved_database_url()
    await _migrate_gateway(settings)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return [
                {
                    "client_id": row.client_id,
                    "name": row.name,
                    "org": row.org,
                    "area": row.area,
                    "tier": row.tier,
                    "scopes": row.scopes,
                    "created_at": row.created_at,
                    "revoked_at": row.revoked_at,
                }
                for row in await clients.list_all(session)
            ]
    finally:
        await engine.dispose()


async def revoke_client(client_id: str, settings: GatewaySettings) -> bool:
    url = settings.resolved_database_url()
    await _migrate_gateway(settings)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            done = await clients.revoke(session, client_id)
            await session.commit()
            return done
    finally:
        await engine.dispose()


async def verify_audit(
    settings: GatewaySettings, anchors: Collection[str] = ()
) -> audit.Verification:
    url = settings.resolved_database_url()
    await _migrate_gateway(settings)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await audit.verify(session, anchors=anchors)
    finally:
        await engine.dispose()
