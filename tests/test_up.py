"""`chiso up` runs the three services until interrupted, then stops them all."""

from __future__ import annotations

import contextlib
import json
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
            # ready, and `up` has said so: a Ctrl-C before that interrupts its start-up (the
            # gateway can answer while the command still waits on the other services)
            try:
                ready = httpx.get(f"http://127.0.0.1:{ports['gateway']}/readyz").status_code
            except httpx.HTTPError:
                ready = 0
            if ready == 200 and "chiso is up" in log.read_text():
                break
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


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (children, theirs, ...) from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie has stopped: it only waits to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def start_up(
    tmp_path: Path, ports: dict[str, int], log: Path, *options: str
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "chiso", "up", "--data-dir", str(tmp_path / "data"), *options]
    for service, port in ports.items():
        command += [f"--{service}-port", str(port)]
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def wait_up(process: subprocess.Popen[bytes], ports: dict[str, int], log: Path) -> None:
    deadline = time.monotonic() + 60
    while "chiso is up" not in log.read_text():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the suite did not come up"
        time.sleep(0.2)
    for port in ports.values():
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200


def wait_for(log: Path, text: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while text not in log.read_text():
        assert process.poll() is None or text in log.read_text(), log.read_text()
        assert time.monotonic() < deadline, f"{text!r} never appeared: {log.read_text()}"
        time.sleep(0.02)


def test_a_second_ctrl_c_stops_everything_and_up_restarts_at_once(tmp_path: Path) -> None:
    """A double Ctrl-C (or `uv run` passing one on twice) stops every service, and `chiso up`
    starts again at once on the same ports though the last answers left them in TIME_WAIT
    (the second time with --verbose: the services' logs are on the console then)."""
    ports = {"gateway": free_port(), "ingest": free_port(), "indicators": free_port()}
    log = tmp_path / "up.log"
    started: set[int] = set()
    process = start_up(tmp_path, ports, log)
    try:
        wait_up(process, ports, log)
        started = descendants(process.pid)
        assert len(started) >= 3, started
        # Kept-alive connections, which the services close when they stop: their ports then
        # sit in TIME_WAIT for a minute.
        with httpx.Client() as client:
            for port in ports.values():
                assert client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            process.send_signal(signal.SIGINT)
            wait_for(log, "stopping", process)
            process.send_signal(signal.SIGINT)  # while the services are being stopped
            code = process.wait(timeout=90)
        still = sorted(pid for pid in started if alive(pid))
        assert not still, f"left running: {still}\n{log.read_text()}"
        assert code == 0, log.read_text()

        log = tmp_path / "up-again.log"
        kept = (tmp_path / "data" / "logs" / "gateway.log").stat().st_size
        again = start_up(tmp_path, ports, log, "--verbose")
        try:
            wait_up(again, ports, log)
            assert '"msg":' in log.read_text()
            assert "on this console (--verbose)" in log.read_text()
            assert (tmp_path / "data" / "logs" / "gateway.log").stat().st_size == kept
            started |= descendants(again.pid)
            again.send_signal(signal.SIGINT)
            assert again.wait(timeout=60) == 0, log.read_text()
        finally:
            if again.poll() is None:
                os.killpg(again.pid, signal.SIGKILL)
                again.wait()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in started:  # each service leads its own process group
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)


def test_up_says_where_everything_is_and_keeps_its_logs_in_files(tmp_path: Path) -> None:
    """The console gets a short bilingual summary (the services, /docs, the web app, the data
    dir, the logs and the next steps), the services' JSON logs go to one file each under the
    data dir, and `chiso clients create` run elsewhere with no --data-dir makes a client the
    running gateway knows."""
    ports = {"gateway": free_port(), "ingest": free_port(), "indicators": free_port()}
    log = tmp_path / "up.log"
    process = start_up(tmp_path, ports, log)
    data = tmp_path / "data"
    gateway = f"http://127.0.0.1:{ports['gateway']}"
    try:
        wait_up(process, ports, log)
        console = log.read_text()
        for line in (
            "chiso đang chạy / chiso is up",
            f"API docs:   {gateway}/docs",
            f"ứng dụng web / web app: {gateway}/",
            f"dữ liệu / data: {data}",
            f"nhật ký / logs: {data / 'logs'}/{{gateway,ingest,indicators}}.log",
            "Bước tiếp theo",
            "Next steps",
            f"chiso clients create my-app --scopes indicators:read,documents:write "
            f"--data-dir {data}",
            f"{gateway}/oauth2/token",
            f"chiso ingest report.docx --gateway {gateway} --client-id CLIENT_ID",
        ):
            assert line in console, f"{line!r} not in:\n{console}"
        assert len(console.splitlines()) < 30
        assert '"level":' not in console and '"msg":' not in console, console
        for service in ports:
            assert '"msg":' in (data / "logs" / f"{service}.log").read_text(), service

        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("CHISO_GATEWAY_DATA_DIR", "CHISO_GATEWAY_DATABASE_URL")
        }
        created = subprocess.run(
            [sys.executable, "-m", "chiso", "clients", "create", "my-app", "--scopes",
             "indicators:read", "--json"],
            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        assert f"using the data dir of the running suite (gateway {gateway})" in created.stderr
        assert not (elsewhere / ".chiso").exists()
        client = json.loads(created.stdout)
        token = httpx.post(
            f"{gateway}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert token.status_code == 200, token.text
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
