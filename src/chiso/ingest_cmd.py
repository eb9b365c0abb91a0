"""`chiso ingest PATH...`: send reports through the gateway and wait for their facts.

Files and whole folders are uploaded one by one (multipart, as the gateway takes them), then
polled until each is delivered or failed. A refused file is a failure in the summary, not the
end of the run. `--reextract` asks ingest (not the gateway: it is an operator's action) to
re-read every document an older extractor version read.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

SUFFIXES = (".txt", ".md", ".html", ".htm", ".xhtml", ".docx", ".pdf")
FINAL = ("delivered", "failed")


@dataclass
class Outcome:
    documents: dict[str, str] = field(default_factory=dict)  # id -> file name
    duplicates: int = 0
    facts: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (file name, reason)


def collect(paths: list[Path]) -> list[Path]:
    """Files named, plus the report files in folders named (recursively, sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            files.extend(sorted(found))
        else:
            files.append(path)
    return files


def token(http: httpx.Client, client_id: str, client_secret: str) -> str:
    response = http.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
    )
    if response.status_code != 200:
        reason = _reason(response)
        _usage_error(
            f"gateway không nhận mã và khóa của client: {reason} / "
            f"the gateway refused the credentials: {reason}"
        )
    return str(response.json()["access_token"])


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and body.get("detail"):
        return f"{response.status_code} {body.get('code', '')}: {body['detail']}".strip()
    return f"HTTP {response.status_code}"


def _data(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    return dict(body.get("data", body))


def upload(http: httpx.Client, file: Path, metadata: dict[str, str], outcome: Outcome) -> None:
    from chiso_ingest.formats import media_type_of

    media_type = media_type_of(None, file.name)
    try:
        with file.open("rb") as handle:
            response = http.post(
                "/v1/documents", files={"file": (file.name, handle, media_type)}, data=metadata
            )
    except (OSError, httpx.HTTPError) as exc:
        outcome.failures.append((file.name, f"{type(exc).__name__}: {exc}"))
        return
    if response.status_code != 202:
        outcome.failures.append((file.name, _reason(response)))
        return
    data = _data(response)
    outcome.documents[data["id"]] = file.name
    outcome.duplicates += bool(data.get("duplicate"))


def wait(http: httpx.Client, outcome: Outcome, progress: Progress, timeout: float) -> None:
    task = progress.add_task("đang trích / extracting", total=len(outcome.documents))
    pending = dict(outcome.documents)
    deadline = time.monotonic() + timeout
    while pending:
        for document_id, name in list(pending.items()):
            response = http.get(f"/v1/documents/{document_id}")
            if response.status_code != 200:
                continue
            status = _data(response)
            if status["status"] in FINAL:
                del pending[document_id]
                progress.advance(task)
                outcome.facts += int(status.get("fact_count") or 0)
                if status["status"] == "failed":
                    outcome.failures.append((name, status.get("error") or "failed"))
        if pending and time.monotonic() > deadline:
            for name in pending.values():
                outcome.failures.append(
                    (name, f"chưa xong sau {timeout:g} giây / not delivered after {timeout:g} s")
                )
            return
        if pending:
            time.sleep(0.25)


INGEST_HELP = (
    "Gửi báo cáo qua gateway, hiện tiến độ, rồi tóm tắt tài liệu, dữ kiện và lỗi. / "
    "Send reports through the gateway, show progress, and summarise documents, facts, failures."
)


def ingest_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Tệp hoặc thư mục báo cáo. / Files or folders of reports.", exists=True
        ),
    ] = None,
    gateway: Annotated[
        str, typer.Option(help="Địa chỉ gateway. / Gateway base URL.", envvar="CHISO_GATEWAY_URL")
    ] = "http://127.0.0.1:8000",
    client_id: Annotated[
        str | None, typer.Option(help="Mã client. / API client id.", envvar="CHISO_CLIENT_ID")
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            help="Khóa bí mật của client. / API client secret.", envvar="CHISO_CLIENT_SECRET"
        ),
    ] = None,
    published: Annotated[
        str | None,
        typer.Option(
            help="YYYY[-MM[-DD]] cho báo cáo không ghi ngày. / "
            "YYYY[-MM[-DD]] for reports that do not state it."
        ),
    ] = None,
    scope: Annotated[
        str | None,
        typer.Option(
            help="Mã địa bàn (38, VN, iso:VN-21) cho báo cáo không nêu tên tỉnh. / "
            "An area code (38, VN, iso:VN-21) for reports that do not name their province."
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Số giây chờ chuyển xong. / Seconds to wait for delivery.")
    ] = 600,
    reextract: Annotated[
        bool,
        typer.Option(
            "--reextract",
            help="Trích lại các tài liệu mà bộ trích cũ hơn đã đọc. / "
            "Re-extract documents read by an older version.",
        ),
    ] = False,
    ingest_url: Annotated[
        str,
        typer.Option(
            help="Địa chỉ ingest (cho --reextract). / Ingest base URL (for --reextract).",
            envvar="CHISO_INGEST_URL",
        ),
    ] = "http://127.0.0.1:8001",
) -> None:
    """Send reports through the gateway (the help people read is `INGEST_HELP`)."""
    console = Console(stderr=True)
    if reextract:
        _reextract(ingest_url)
        if not paths:
            return
    files = collect(paths or [])
    if not files:
        _usage_error(
            "không có tệp báo cáo nào (hoặc thư mục không chứa tệp báo cáo) / "
            "no report files given (or none in the folders given)"
        )
    client_id = client_id or os.environ.get("CHISO_CLIENT_ID")
    client_secret = client_secret or os.environ.get("CHISO_CLIENT_SECRET")
    if not client_id or not client_secret:
        _usage_error(
            "cần --client-id và --client-secret (hoặc CHISO_CLIENT_ID/_SECRET); tạo client "
            "bằng `chiso clients create` / give --client-id and --client-secret (or "
            "CHISO_CLIENT_ID/_SECRET); create a client with `chiso clients create`"
        )
    metadata = {key: value for key, value in (("published", published), ("scope", scope)) if value}
    outcome = Outcome()
    try:
        _send(gateway, client_id, client_secret, files, metadata, outcome, console, timeout)
    except httpx.TransportError as exc:
        _unreachable("gateway", gateway, exc)
    _summary(outcome)
    if outcome.failures:
        raise typer.Exit(1)


def _usage_error(message: str) -> NoReturn:
    """A mistake in what was asked: said in both languages, exit 2 (as for a bad option)."""
    typer.echo(f"chiso ingest: {message}", err=True)
    raise typer.Exit(2)


def _unreachable(service: str, url: str, exc: httpx.TransportError) -> NoReturn:
    """A service that does not answer: one line that says so (and what to try), exit 1 —
    not a traceback."""
    typer.echo(
        f"không kết nối được tới {service} tại {url} ({exc.__class__.__name__}: {exc}); "
        f"dịch vụ đã chạy chưa (chiso up)? / cannot reach the {service} at {url} "
        f"({exc.__class__.__name__}: {exc}); is it running (chiso up)?",
        err=True,
    )
    raise typer.Exit(1)


def _send(
    gateway: str,
    client_id: str,
    client_secret: str,
    files: list[Path],
    metadata: dict[str, str],
    outcome: Outcome,
    console: Console,
    timeout: float,
) -> None:
    with httpx.Client(base_url=gateway, timeout=httpx.Timeout(120, connect=5)) as http:
        http.headers["Authorization"] = f"Bearer {token(http, client_id, client_secret)}"
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            sending = progress.add_task("đang gửi / uploading", total=len(files))
            for file in files:
                upload(http, file, metadata, outcome)
                progress.advance(sending)
            wait(http, outcome, progress, timeout)


def _summary(outcome: Outcome) -> None:
    documents, known = len(outcome.documents), outcome.duplicates
    failures = len(outcome.failures)
    typer.echo(
        f"tài liệu: {documents} ({known} đã có)  dữ kiện: {outcome.facts}  lỗi: {failures} / "
        f"documents: {documents} ({known} already known)  facts: {outcome.facts}  "
        f"failures: {failures}"
    )
    for name, reason in outcome.failures:
        typer.echo(f"  lỗi / failed: {name}: {reason}")


def _reextract(ingest_url: str) -> None:
    # An operator's call straight to ingest: signed with ingest's own service token secret
    # (CHISO_INGEST_SERVICE_TOKEN_SECRET, or the dev key in its data dir).
    from chiso_ingest.settings import Settings
    from chiso_shared.service_auth import WRITE, ServiceTokens

    secret = Settings().resolved_service_token_secret()
    headers = ServiceTokens(secret, "cli").headers("ingest", [WRITE])
    try:
        with httpx.Client(base_url=ingest_url, timeout=60, headers=headers) as http:
            response = http.post("/v1/documents/reextract")
    except httpx.TransportError as exc:
        _unreachable("ingest", ingest_url, exc)
    if response.status_code != 202:
        reason = _reason(response)
        typer.echo(
            f"ingest từ chối trích lại: {reason} / re-extraction refused: {reason}", err=True
        )
        raise typer.Exit(1)
    body = response.json()
    count, version = len(body["queued"]), body["extractor_version"]
    typer.echo(
        f"đang trích lại {count} tài liệu bằng bộ trích {version} / "
        f"re-extracting {count} document(s) with extractor {version}"
    )
