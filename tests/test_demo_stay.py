"""`chiso demo --stay`: the samples loaded, then the suite kept up with an officer's sign-in."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

pytestmark = pytest.mark.slow


def test_demo_stays_up_with_an_officer_who_may_review(
    tmp_path: Path, suite_state_dir: Path
) -> None:
    ports = {"gateway": free_port(), "ingest": free_port(), "indicators": free_port()}
    command = [sys.executable, "-m", "chiso", "demo", "--stay", "--data-dir", str(tmp_path)]
    for service, port in ports.items():
        command += [f"--{service}-port", str(port)]
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while "Ctrl-C" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        text = log.read_text()
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        assert f"{gateway}/" in text
        client_id = re.search(r"client id: (\S+)", text)
        secret = re.search(r"secret:\s+(\S+)", text)
        assert client_id and secret, text
        token = httpx.post(
            f"{gateway}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id.group(1), secret.group(1)),
        )
        assert token.status_code == 200, token.text
        assert set(token.json()["scope"].split()) == {
            "indicators:read",
            "documents:write",
            "facts:review",
        }
        # While it stays, `chiso clients` with no --data-dir works on the demo's gateway.
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_GATEWAY_")}
        listed = subprocess.run(
            [sys.executable, "-m", "chiso", "clients", "list", "--json"],
            cwd=tmp_path / "logs", env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        assert client_id.group(1) in {row["client_id"] for row in json.loads(listed.stdout)}
        assert list(suite_state_dir.iterdir())
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=45) == 0
        assert not list(suite_state_dir.iterdir())  # the record goes with the suite
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
