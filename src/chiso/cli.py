"""The `chiso` command: run the suite, try it, extract offline, manage gateway clients."""

from __future__ import annotations

import asyncio
import json
import signal
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from chiso.audit_cmd import audit_app
from chiso.bilingual import BilingualCommand, BilingualGroup
from chiso.ingest_cmd import INGEST_HELP, ingest_command
from chiso.keys_cmd import keys_app

if TYPE_CHECKING:
    from chiso_shared.settings import ServiceSettings

app = typer.Typer(
    cls=BilingualGroup,
    help="chiso biến báo cáo CNTT-TT của các tỉnh thành chuỗi số liệu theo chỉ tiêu. / "
    "chiso turns Vietnamese provincial ICT reports into indicator time series.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
clients_app = typer.Typer(
    cls=BilingualGroup,
    help="Quản lý các client API của gateway. / Manage the gateway's API clients.",
    no_args_is_help=True,
)
app.add_typer(clients_app, name="clients")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.command("ingest", cls=BilingualCommand, help=INGEST_HELP)(ingest_command)


class Service(StrEnum):
    gateway = "gateway"
    ingest = "ingest"
    indicators = "indicators"


Host = Annotated[
    str,
    typer.Option(
        help="Địa chỉ lắng nghe; giữ 127.0.0.1 trừ khi đứng sau proxy. / "
        "Address to bind; keep 127.0.0.1 unless behind a proxy."
    ),
]
GatewayPort = Annotated[int, typer.Option(help="Cổng gateway. / Gateway port.")]
IngestPort = Annotated[int, typer.Option(help="Cổng ingest. / Ingest port.")]
IndicatorsPort = Annotated[int, typer.Option(help="Cổng indicators. / Indicators port.")]


class _InterruptOnce:
    """Turn the first SIGINT/SIGTERM into KeyboardInterrupt and ignore the ones after it
    (`uv run` passes a Ctrl-C on twice; people press it twice), so nothing interrupts the
    stop the first one started."""

    def __init__(self) -> None:
        self.interrupted = False

    def __call__(self, _signum: int, _frame: object) -> None:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt


UP_HELP = (
    "Chạy gateway, ingest và indicators trên máy (SQLite) cho tới khi Ctrl-C. / "
    "Run gateway, ingest and indicators locally on SQLite until Ctrl-C."
    "\n\n"
    "Nhật ký của mỗi dịch vụ ghi vào <data-dir>/logs/<dịch vụ>.log; màn hình chỉ in địa chỉ và "
    "các bước tiếp theo (--verbose: in nhật ký ra màn hình). / Each service's log goes to "
    "<data-dir>/logs/<service>.log; the console shows the addresses and the next steps "
    "(--verbose: logs on the console)."
)


@app.command(cls=BilingualCommand, help=UP_HELP)
def up(
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            help="Nơi các dịch vụ giữ tệp SQLite và nhật ký. / "
            "Where the services keep their SQLite files and logs.",
        ),
    ] = Path(".chiso"),
    host: Host = "127.0.0.1",
    gateway_port: GatewayPort = 8000,
    ingest_port: IngestPort = 8001,
    indicators_port: IndicatorsPort = 8002,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="In nhật ký JSON của các dịch vụ ra màn hình thay vì vào tệp. / "
            "Print the services' JSON logs on the console instead of into files.",
        ),
    ] = False,
) -> None:
    from chiso.running import announced
    from chiso.suite import Suite, SuiteConfig, SuiteError
    from chiso.up_summary import failure_hint, summary

    config = SuiteConfig(
        data_dir=data_dir.resolve(),
        host=host,
        gateway_port=gateway_port,
        ingest_port=ingest_port,
        indicators_port=indicators_port,
        log_level="INFO",
    )
    log_dir = None if verbose else config.data_dir / "logs"
    suite = Suite(config, log_dir=log_dir)
    interrupt = _InterruptOnce()
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        suite.start_all()
        with announced(config, log_dir):
            typer.echo(summary(config, log_dir))
            stopped = suite.wait()
            typer.echo(
                f"{stopped} đã dừng; đang dừng các dịch vụ còn lại. / "
                f"{stopped} exited; stopping the others.{failure_hint(stopped, log_dir)}",
                err=True,
            )
        raise typer.Exit(1)
    except SuiteError as exc:
        typer.echo(
            f"chiso up không chạy được / chiso up failed: {exc}"
            f"{failure_hint(exc.service, log_dir)}",
            err=True,
        )
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        typer.echo("đang dừng / stopping ...")
    finally:
        suite.stop_all()


DEMO_HELP = (
    "Khởi động các dịch vụ, gửi các báo cáo mẫu qua gateway, in các chuỗi số. / "
    "Start the suite, send the bundled sample reports through the gateway, print the series."
)


@app.command(cls=BilingualCommand, help=DEMO_HELP)
def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Giữ dữ liệu của demo ở đây (mặc định: một thư mục tạm). / "
            "Keep the demo's data here (default: a temporary folder).",
        ),
    ] = None,
    host: Host = "127.0.0.1",
    gateway_port: GatewayPort = 8000,
    ingest_port: IngestPort = 8001,
    indicators_port: IndicatorsPort = 8002,
    stay: Annotated[
        bool,
        typer.Option(
            "--stay",
            help="Rồi giữ các dịch vụ chạy cho ứng dụng web và in thông tin đăng nhập của một "
            "cán bộ (gửi và duyệt), tới khi Ctrl-C. / Then keep the suite up for the web app "
            "and print an officer's sign-in (upload and review), until Ctrl-C.",
        ),
    ] = False,
) -> None:
    """Run the demo (the help people read is `DEMO_HELP`)."""
    from chiso.demo import run_demo
    from chiso.suite import SuiteConfig

    with tempfile.TemporaryDirectory(prefix="chiso-demo-") as scratch:
        config = SuiteConfig(
            data_dir=(data_dir or Path(scratch)).resolve(),
            host=host,
            gateway_port=gateway_port,
            ingest_port=ingest_port,
            indicators_port=indicators_port,
        )
        raise typer.Exit(run_demo(config, stay=stay))


# One line per paragraph: rich help keeps a line break inside one, and the first is the line
# `chiso --help` lists.
EXTRACT_HELP = (
    "Trích dữ kiện từ tài liệu ngay trên máy, không cần chạy dịch vụ nào. / "
    "Extract facts from documents offline, with no service running."
    "\n\n"
    "In ra bảng phân cách bằng tab, có dòng tiêu đề; hoặc JSONL với --jsonl. / "
    "Prints a tab-separated table with a header, or JSONL with --jsonl."
    "\n\n"
    "Tệp không đọc được thì được báo rồi bỏ qua, và mã thoát là 1; lệnh sai: 2. / "
    "An unreadable file is reported and skipped, then the exit status is 1; a bad command: 2."
)


@app.command(cls=BilingualCommand, help=EXTRACT_HELP)
def extract(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Tệp báo cáo (.txt, .md, .html, .docx, .pdf) hoặc thư mục chứa chúng. / "
            "Report files (.txt, .md, .html, .docx, .pdf) or folders of them.",
        ),
    ] = None,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help="Mỗi dòng một dữ kiện JSON theo GUIDELINE. / One GUIDELINE fact per line.",
        ),
    ] = False,
    published: Annotated[
        str | None,
        typer.Option(
            help="YYYY[-MM[-DD]] cho tài liệu không ghi ngày. / "
            "YYYY[-MM[-DD]] for documents that do not state it.",
        ),
    ] = None,
    scope: Annotated[
        str | None,
        typer.Option(
            help="Mã địa bàn (38, VN, iso:VN-21) cho tài liệu không nêu tên tỉnh; thiếu "
            "nó, văn bản cấp tỉnh không nêu tên tỉnh có phạm vi để trống (không rõ), không "
            "phải VN. / An area code (38, VN, iso:VN-21) for documents that do not name "
            "their province; without it a provincial text naming none gets an empty "
            "(unknown) scope, not VN.",
        ),
    ] = None,
    hints: Annotated[
        Path | None,
        typer.Option(
            "--hints",
            help="Bảng TSV có các cột file (tính từ thư mục của bảng), published và scope: "
            "trích mọi tệp bảng nêu, theo thứ tự, mỗi tệp với gợi ý của nó (thay cho PATHS; "
            "ô trống thì lấy --published/--scope). / "
            "A TSV with columns file (relative to the TSV's folder), published and scope: "
            "extract every file it names, in its order, with its own hints (instead of PATHS; "
            "an empty cell takes --published/--scope).",
        ),
    ] = None,
) -> None:
    """Extract facts offline (the help people read is `EXTRACT_HELP`)."""
    from chiso.extract_cmd import run

    raise typer.Exit(run(paths or [], hints=hints, jsonl=jsonl, published=published, scope=scope))


@app.command(
    cls=BilingualCommand,
    help="Chạy một dịch vụ ở tiền cảnh (cấu hình từ các biến CHISO_<SERVICE>_*). / "
    "Run one service in the foreground (settings from CHISO_<SERVICE>_* variables).",
)
def serve(
    service: Annotated[Service, typer.Argument(help="Dịch vụ cần chạy. / Which service to run.")],
    host: Host = "127.0.0.1",
    port: Annotated[
        int | None,
        typer.Option(help="Cổng (mặc định 8000/8001/8002). / Port (default 8000/8001/8002)."),
    ] = None,
) -> None:
    from chiso.serving import run

    default_port = {"gateway": 8000, "ingest": 8001, "indicators": 8002}[service.value]
    settings = _settings_or_exit(service)
    run(
        f"chiso_{service.value}.main:create_app",
        host=host,
        port=port or default_port,
        head_timeout=settings.request_head_timeout_seconds,
        log_config=None,
        # Forwarded headers are believed only from the proxies a service's own setting names
        # (the gateway's FORWARDED_ALLOW_IPS), not from uvicorn's default of 127.0.0.1.
        proxy_headers=False,
    )


def _settings_or_exit(service: Service) -> ServiceSettings:
    """The service's settings; settings it refuses (a published example secret in prod, a
    value out of range) end the command with their messages and exit 2, no traceback."""
    from pydantic import ValidationError

    try:
        return _service_settings(service)
    except ValidationError as exc:
        _exit_on_settings(service.value, exc)


def _exit_on_settings(service: str, exc: Exception) -> NoReturn:
    from pydantic import ValidationError

    typer.echo(f"{service}: cấu hình không hợp lệ / invalid settings", err=True)
    for error in exc.errors() if isinstance(exc, ValidationError) else []:
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        typer.echo(f"  {where + ': ' if where else ''}{message}", err=True)  # never the input
    raise typer.Exit(2) from exc


def _service_settings(service: Service) -> ServiceSettings:
    if service is Service.gateway:
        from chiso_gateway.settings import Settings as GatewaySettings

        return GatewaySettings()
    if service is Service.ingest:
        from chiso_ingest.settings import Settings as IngestSettings

        return IngestSettings()
    from chiso_indicators.settings import Settings as IndicatorsSettings

    return IndicatorsSettings()


@app.command(
    cls=BilingualCommand,
    help="Cập nhật cấu trúc cơ sở dữ liệu (cấu hình từ các biến CHISO_<SERVICE>_*). / "
    "Apply database migrations (settings from CHISO_<SERVICE>_* variables).",
)
def migrate(
    service: Annotated[
        Service | None,
        typer.Argument(
            help="Một dịch vụ; bỏ trống là cả ba. / One service; all three when omitted."
        ),
    ] = None,
) -> None:
    from pydantic import ValidationError

    from chiso.admin import migrate_service
    from chiso_shared.db_roles import RuntimeRoleError

    for name in [service.value] if service else [s.value for s in Service]:
        try:
            where = migrate_service(name).split("@")[-1]
        except ValidationError as exc:
            _exit_on_settings(name, exc)
        except RuntimeRoleError as exc:  # a setting to fix, not a crash: no traceback
            typer.echo(f"{name}: {exc}", err=True)
            raise typer.Exit(2) from exc
        typer.echo(f"{name}: đã cập nhật / migrated {where}")


ClientsDataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Thư mục dữ liệu của gateway; mặc định: của chiso đang chạy, hoặc ./.chiso nếu đã "
        "có cơ sở dữ liệu gateway. / The gateway's data directory; by default the running "
        "suite's, or ./.chiso when it holds a gateway database.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Chỉ in JSON. / Print JSON only.")]


@clients_app.command(
    "create",
    cls=BilingualCommand,
    help="Tạo một client, in mã và khóa bí mật (khóa chỉ hiện một lần). / "
    "Create a client and print its id and secret (the secret is shown only once).",
)
def clients_create(
    name: Annotated[
        str, typer.Argument(help="Tên người ta nhận ra được. / A name people will recognise.")
    ],
    scopes: Annotated[
        str,
        typer.Option(
            help="Cách nhau bởi dấu phẩy / comma-separated: catalog:read, indicators:read, "
            "documents:write, facts:review (duyệt, sửa, xuất dữ kiện / review, correct and "
            "export facts), audit:read (nhật ký kiểm toán của cơ quan mình / its agency's audit "
            "rows), audit:admin (mọi dòng / every audit row), clients:admin (quản lý client "
            "qua /v1/admin/clients / manage clients over /v1/admin/clients)."
        ),
    ],
    org: Annotated[
        str, typer.Option(help="Mã cơ quan của client. / The client's agency code.")
    ] = "",
    area: Annotated[
        str,
        typer.Option(
            help="Địa bàn cơ quan phụ trách (46, VN): phạm vi của tài liệu nó gửi mà không "
            "nêu tỉnh. / The area its agency serves (46, VN): the scope hint of the "
            "documents it uploads without one."
        ),
    ] = "",
    tier: Annotated[
        str,
        typer.Option(
            help="Hạng hạn mức (yêu cầu mỗi phút), xem CHISO_GATEWAY_QUOTA_TIERS. / "
            "Quota tier (requests per minute): see CHISO_GATEWAY_QUOTA_TIERS."
        ),
    ] = "standard",
    as_json: AsJson = False,
    data_dir: ClientsDataDir = None,
) -> None:
    from chiso.admin import create_client, gateway_settings_or_exit
    from chiso_gateway.auth.clients import ClientError

    settings = gateway_settings_or_exit(data_dir)
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    try:
        created = asyncio.run(create_client(name, scope_list, org, settings, tier=tier, area=area))
    except ClientError as exc:
        typer.echo(f"lỗi / error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(
            json.dumps({"client_id": created.client_id, "client_secret": created.client_secret})
        )
    else:
        typer.echo(f"client_id:     {created.client_id}")
        typer.echo(
            f"client_secret: {created.client_secret}   (chỉ hiện một lần, hãy lưu ngay / "
            "shown once; store it now)"
        )
        typer.echo(f"scopes:        {' '.join(created.scopes)}")


@clients_app.command(
    "list",
    cls=BilingualCommand,
    help="Liệt kê các client (không bao giờ in khóa bí mật). / List clients (never their secrets).",
)
def clients_list(data_dir: ClientsDataDir = None, as_json: AsJson = False) -> None:
    from chiso.admin import gateway_settings_or_exit, list_clients

    rows = asyncio.run(list_clients(gateway_settings_or_exit(data_dir)))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for row in rows:
        state = "đã thu hồi/revoked" if row["revoked_at"] else "hoạt động/active"
        typer.echo(f"{row['client_id']}  {state:18}  {row['scopes']:40}  {row['name']}")


@clients_app.command(
    "revoke",
    cls=BilingualCommand,
    help="Thu hồi một client: mã và khóa hết dùng được ngay, các token đang dùng thì trong "
    "CLIENT_CHECK_SECONDS của gateway (mặc định 5 giây). / Revoke a client: its credentials "
    "stop working at once, its live tokens within the gateway's CLIENT_CHECK_SECONDS (5 s by "
    "default).",
)
def clients_revoke(
    client_id: Annotated[str, typer.Argument(help="Mã client. / The client id.")],
    data_dir: ClientsDataDir = None,
) -> None:
    from chiso.admin import gateway_settings_or_exit, revoke_client

    if not asyncio.run(revoke_client(client_id, gateway_settings_or_exit(data_dir))):
        typer.echo(f"không có client {client_id} / no client {client_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"đã thu hồi / revoked {client_id}")


def main() -> None:
    app()
