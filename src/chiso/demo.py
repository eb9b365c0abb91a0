"""`chiso demo`: the whole path, over real HTTP, on the bundled sample reports."""

from __future__ import annotations

import asyncio
import sys
import time
from importlib import resources
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from chiso.admin import create_client, gateway_settings
from chiso.running import announced
from chiso.suite import Suite, SuiteConfig, SuiteError

AREA_NAMES = {"38": "Thanh Hóa", "46": "Thừa Thiên Huế"}
DELIVERY_TIMEOUT = 90.0
COLUMNS = (
    "chỉ tiêu / indicator",
    "tỉnh / province",
    "kỳ / period",
    "giá trị / value",
    "đơn vị / unit",
    "trạng thái / status",
    "nguồn / source",
)
STATUS_NAMES = {"A": "thực tế / actual", "E": "ước tính / estimate", "F": "kế hoạch / target"}


def sample_reports() -> list[tuple[str, bytes]]:
    folder = resources.files("chiso").joinpath("samples")
    return sorted(
        (item.name, item.read_bytes()) for item in folder.iterdir() if item.name.endswith(".txt")
    )


OFFICER_SCOPES = ["indicators:read", "documents:write", "facts:review"]


def run_demo(config: SuiteConfig, *, stay: bool = False) -> int:
    # Wide enough for the table when the output is a pipe or a CI log, not a terminal.
    console = Console(width=None if sys.stdout.isatty() else 150)
    settings = gateway_settings(config.data_dir, config.database_urls.get("gateway"))
    scopes = ["documents:write", "indicators:read"]
    created = asyncio.run(create_client("chiso demo", scopes, "demo", settings))
    console.print(
        f"[bold]chiso demo[/]: đang khởi động (dữ liệu ở {config.data_dir}) / starting the "
        f"suite (data in {config.data_dir}) ..."
    )
    log_dir = config.data_dir / "logs"
    try:
        with Suite(config, log_dir=log_dir) as suite, announced(config, log_dir):
            code = _exercise(console, config, created.client_id, created.client_secret)
            if code == 0 and stay:
                _stay(console, config, suite)
            return code
    except SuiteError as exc:
        console.print(f"[red]không khởi động được / the suite did not start: {exc}[/]")
        console.print(f"nhật ký / logs: {log_dir}")
        return 1


def _stay(console: Console, config: SuiteConfig, suite: Suite) -> None:
    """Keep the suite up for the web app, with an officer who may upload and review, until
    Ctrl-C or a service exits."""
    import signal

    from chiso.cli import _InterruptOnce

    settings = gateway_settings(config.data_dir, config.database_urls.get("gateway"))
    officer = asyncio.run(create_client("cán bộ demo", OFFICER_SCOPES, "demo", settings, area="38"))
    signal.signal(signal.SIGINT, _InterruptOnce())
    signal.signal(signal.SIGTERM, _InterruptOnce())
    console.print(
        f"\n[bold]Ứng dụng web / web app:[/] {config.url('gateway')}/\n"
        f"  Đăng nhập / sign in — mã ứng dụng / client id: [bold]{officer.client_id}[/]\n"
        f"                        khóa bí mật / secret:     [bold]{officer.client_secret}[/]\n"
        "  Ctrl-C để dừng / Ctrl-C stops."
    )
    try:
        stopped = suite.wait()
        console.print(
            f"[red]{stopped} đã dừng; đang dừng các dịch vụ còn lại. / "
            f"{stopped} exited; stopping the others.[/]"
        )
    except KeyboardInterrupt:
        console.print("đang dừng / stopping ...")


def _exercise(console: Console, config: SuiteConfig, client_id: str, secret: str) -> int:
    with httpx.Client(base_url=config.url("gateway"), timeout=30) as http:
        token = http.post(
            "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
        )
        token.raise_for_status()
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        ids = _upload_samples(console, http)
        if not _wait_delivered(console, http, ids):
            return 1
        rows = _level_observations(http)
    _print_table(console, rows)
    indicators = {row["indicator"] for row in rows}
    areas = {row["area"] for row in rows}
    periods = {row["period"] for row in rows}
    console.print(
        f"{len(rows)} quan sát: {len(indicators)} chỉ tiêu, {len(areas)} tỉnh, {len(periods)} "
        f"kỳ. / {len(rows)} observations: {len(indicators)} indicators, {len(areas)} "
        f"provinces, {len(periods)} periods."
    )
    return 0 if rows else 1


def _upload_samples(console: Console, http: httpx.Client) -> dict[str, str]:
    ids: dict[str, str] = {}
    for name, content in sample_reports():
        response = http.post("/v1/documents", files={"file": (name, content, "text/plain")})
        response.raise_for_status()
        ids[name] = response.json()["data"]["id"]
        console.print(f"  đã gửi / sent {name} -> document {ids[name]}")
    return ids


def _wait_delivered(console: Console, http: httpx.Client, ids: dict[str, str]) -> bool:
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    pending = dict(ids)
    while pending and time.monotonic() < deadline:
        for name, document_id in list(pending.items()):
            status = http.get(f"/v1/documents/{document_id}").json()["data"]
            if status["status"] == "delivered":
                console.print(
                    f"  {name}: đã chuyển {status['fact_count']} dữ kiện / "
                    f"{status['fact_count']} facts delivered"
                )
                del pending[name]
            elif status["status"] == "failed":
                console.print(f"[red]  {name} lỗi / failed: {status['error']}[/]")
                return False
        time.sleep(0.2)
    if pending:
        console.print(
            f"[red]chưa chuyển xong sau {DELIVERY_TIMEOUT:.0f} giây / not delivered in "
            f"{DELIVERY_TIMEOUT:.0f}s: {', '.join(pending)}[/]"
        )
        return False
    return True


def _level_observations(http: httpx.Client) -> list[dict[str, Any]]:
    params: dict[str, Any] = {
        "area": ",".join(AREA_NAMES),
        "transformation": "level",
        "measure": "actual",
        "limit": 500,
    }
    rows: list[dict[str, Any]] = []
    while True:
        page = http.get("/v1/observations", params=params)
        page.raise_for_status()
        body = page.json()
        rows.extend(body["data"])
        next_link = body["links"].get("next")
        if not next_link:
            return rows
        params = {**params, "cursor": httpx.URL(next_link).params["cursor"]}


def _print_table(console: Console, rows: list[dict[str, Any]]) -> None:
    table = Table(
        title="Chuỗi số đọc lại qua gateway / Series read back through the gateway",
        show_lines=False,
    )
    for column in COLUMNS:
        table.add_column(column, justify="right" if column == COLUMNS[3] else "left")
    for row in sorted(rows, key=lambda r: (r["indicator"], r["area"], r["period"])):
        source = row["sources"][0] if row["sources"] else {}
        table.add_row(
            row["indicator"],
            AREA_NAMES.get(row["area"], row["area"]),
            row["period"],
            _number(row["value"]),
            row["unit"],
            STATUS_NAMES.get(row["status"], row["status"]),
            f"{source.get('document_name', '-')} «{source.get('text', '')}»",
        )
    console.print(table)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.10g}"
