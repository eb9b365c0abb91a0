"""`chiso up` runs the three services until interrupted, then stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

pytestmark = pytest.mark.slow


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_up_serves_until_interrupted_then_stops_cleanly(tmp_path: Path) -> None:
    ports = {"gateway": free_port(), "ingest": free_port(), "indicators": free_port()}
    command = [sys.executable, "-m", "chiso", "up", "--data-dir", str(tmp_path)]
    for service, port in ports.items():
        command += [f"--{service}-port", str(port)]
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{ports['gateway']}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the suite did not become ready"
            time.sleep(0.2)
        for service in ("ingest", "indicators"):
            assert httpx.get(f"http://127.0.0.1:{ports[service]}/healthz").status_code == 200
        assert (tmp_path / "indicators.db").exists()

        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert process.wait(timeout=45) == 0
        assert "chiso is up" in log.read_text()
        assert not any(listening(port) for port in ports.values())
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
