"""Memory and time of ingest on a hostile upload: `uv run python bench/bench_hostile_ingest.py`.

Starts the ingest service as its own process (SQLite in a temporary folder, no indicators),
uploads a text of tab-separated small numbers (500 KB by default: `--kb N`), and waits until
the document is settled. Prints the wall time from upload to settled, the peak resident
memory of the ingest process (VmHWM), the peak summed over it and its child processes
(sampled every 20 ms: what a pod's memory limit counts) and the document's outcome.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from chiso_shared.service_auth import READ, WRITE, ServiceTokens


def hostile_text(kilobytes: int) -> str:
    row = "\t".join(str(digit) for digit in range(1, 10)) + "\n"
    return "Năm 2023\n" + row * (kilobytes * 1000 // len(row))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_field(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(field.encode() + b":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry))
    return tree


def tree_rss(root: int) -> int:
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        total += _status_field(pid, "VmRSS")
        todo.extend(tree.get(pid, []))
    return total


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kb", type=int, default=500)
    args = parser.parse_args()
    port = free_port()
    secret = secrets.token_hex(32)
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "CHISO_INGEST_SERVICE_TOKEN_SECRET": secret,
            **os.environ,
            "CHISO_INGEST_DATA_DIR": folder,
            "CHISO_INGEST_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/ingest.db",
            "CHISO_INGEST_INDICATORS_URL": f"http://127.0.0.1:{free_port()}",
            "CHISO_INGEST_LOG_LEVEL": "warning",
        }
        command = [sys.executable, "-m", "uvicorn", "chiso_ingest.main:create_app", "--factory"]
        server = subprocess.Popen(
            [*command, "--port", str(port), "--log-level", "warning"],
            env=env,
            start_new_session=True,
        )
        try:
            signed = ServiceTokens(secret, "gateway").headers("ingest", (READ, WRITE))
            return run(server.pid, f"http://127.0.0.1:{port}", hostile_text(args.kb), signed)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)


def run(pid: int, url: str, text: str, headers: dict[str, str]) -> int:
    with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
        for _ in range(300):
            try:
                client.get("/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        base = tree_rss(pid)
        started = time.perf_counter()
        accepted = client.post("/v1/documents", json={"filename": "numbers.txt", "text": text})
        accepted.raise_for_status()
        upload_seconds = time.perf_counter() - started
        document = accepted.json()["id"]
        peak = base
        status: dict[str, object] = {}
        while True:
            peak = max(peak, tree_rss(pid))
            status = client.get(f"/v1/documents/{document}").json()
            if status["status"] not in ("queued", "extracting"):
                break
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    print(f"text: {len(text):,} chars")
    print(f"upload answered in {upload_seconds:.1f} s")
    print(f"upload to {status['status']}: {elapsed:.1f} s, {status['fact_count']} facts")
    print(f"ingest process peak RSS (VmHWM): {_status_field(pid, 'VmHWM') / 2**20:,.0f} MiB")
    print(f"process tree RSS: {base / 2**20:,.0f} MiB before, {peak / 2**20:,.0f} MiB peak")
    print(f"error: {status.get('error')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
