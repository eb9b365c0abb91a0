"""What `chiso up` tells a person once the suite runs: where everything is and what to do next.

Every line is in Vietnamese and English. The commands shown are the ones to type: `chiso` as the
person started it (`./scripts/chiso` exports its own path as `CHISO_PROG`).
"""

from __future__ import annotations

import os
import shlex
from collections import deque
from pathlib import Path

from chiso.suite import SERVICES, SuiteConfig

PROG_ENV = "CHISO_PROG"
LOG_TAIL_LINES = 20
CLIENT_SCOPES = "indicators:read,documents:write"


def prog() -> str:
    return os.environ.get(PROG_ENV) or "chiso"


def summary(config: SuiteConfig, log_dir: Path | None) -> str:
    gateway = config.url("gateway")
    command = prog()
    create = f"{command} clients create my-app --scopes {CLIENT_SCOPES}"
    if config.data_dir != Path(".chiso").resolve():
        create += f" --data-dir {shlex.quote(str(config.data_dir))}"
    lines = [
        "chiso đang chạy / chiso is up  (Ctrl-C để dừng / Ctrl-C stops)",
        *(f"  {service:<11} {config.url(service)}" for service in reversed(SERVICES)),
        f"  API docs:   {gateway}/docs  (ReDoc: {gateway}/redoc)",
        f"  ứng dụng web / web app: {gateway}/",
        f"  dữ liệu / data: {config.data_dir}",
        _logs_line(log_dir),
        "",
        "Bước tiếp theo (ở một cửa sổ dòng lệnh khác) / Next steps (in another terminal):",
        "  1. Tạo một client (in mã và khóa bí mật) / create a client (prints its id and secret):",
        f"     {create}",
        "  2. Lấy token / get a token:",
        f"     curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=client_credentials "
        f"{gateway}/oauth2/token",
        "  3. Gửi một báo cáo và chờ dữ kiện của nó / upload a report and wait for its facts:",
        f"     {command} ingest report.docx --gateway {gateway} "
        "--client-id CLIENT_ID --client-secret CLIENT_SECRET",
    ]
    return "\n".join(lines)


def _logs_line(log_dir: Path | None) -> str:
    if log_dir is None:
        return "  nhật ký / logs: trên màn hình này / on this console (--verbose)"
    names = ",".join(reversed(SERVICES))
    return f"  nhật ký / logs: {log_dir}/{{{names}}}.log  (--verbose: ra màn hình / on the console)"


def failure_hint(service: str | None, log_dir: Path | None) -> str:
    """Where to look when `service` failed: its log file and its last lines (the console
    has not shown them when they went to a file)."""
    if service is None or log_dir is None:
        return ""
    log = log_dir / f"{service}.log"
    try:
        with log.open(encoding="utf-8", errors="replace") as handle:
            tail = "".join(deque(handle, maxlen=LOG_TAIL_LINES))
    except OSError:
        return ""
    return f"\n  nhật ký / log: {log} (những dòng cuối / last lines):\n{tail.rstrip()}"
