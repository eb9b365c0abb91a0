"""`chiso serve` closes a connection whose request head does not arrive in time (slowloris).

A real service process, a real socket trickling a request head one byte at a time: the
server must close it within its request-head timeout, on a new connection and on a kept-alive
one after a first answer. Closure is what is asserted, not how fast it came.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.support import free_port, fresh_database, wait_until_healthy

pytestmark = pytest.mark.slow

HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 64 + b"\r\n\r\n"
TRICKLE_SECONDS = 5.0  # five times the timeout the server is given below


@pytest.fixture(scope="module")
def indicators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp_path = tmp_path_factory.mktemp("serve")
    port = free_port()
    with fresh_database(tmp_path, "indicators") as url:
        env = {
            **os.environ,
            "CHISO_INDICATORS_DATA_DIR": str(tmp_path),
            "CHISO_INDICATORS_DATABASE_URL": url,
            "CHISO_INDICATORS_REQUEST_HEAD_TIMEOUT_SECONDS": "1",
        }
        command = [sys.executable, "-m", "chiso", "serve", "indicators", "--port", str(port)]
        log = (tmp_path / "serve.log").open("wb")
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
        log.close()
        try:
            wait_until_healthy(port, process, tmp_path / "serve.log", "indicators", 60)
            yield port
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether the server has closed `sock` (end of stream or reset); never blocks."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def trickle_until_closed(sock: socket.socket, head: bytes) -> int:
    """Send `head` one byte at a time over TRICKLE_SECONDS; return how many bytes went out
    before the server closed the connection, or -1 if it never did."""
    pause = TRICKLE_SECONDS / len(head)
    for sent, byte in enumerate(head):
        if closed_by_peer(sock):
            return sent
        try:
            sock.sendall(bytes([byte]))
        except (ConnectionResetError, BrokenPipeError):
            return sent
        time.sleep(pause)
    return sent + 1 if closed_by_peer(sock) else -1


def test_a_trickled_request_head_is_cut_off(indicators: int) -> None:
    with socket.create_connection(("127.0.0.1", indicators), timeout=10) as sock:
        sent = trickle_until_closed(sock, HEAD)
    assert 0 < sent < len(HEAD), f"the connection stayed open for {sent} of {len(HEAD)} bytes"


def test_a_kept_alive_connection_has_the_same_limit_for_its_next_head(indicators: int) -> None:
    with socket.create_connection(("127.0.0.1", indicators), timeout=10) as sock:
        sock.sendall(HEAD)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(4096)
            assert chunk, f"closed before the first answer: {answer!r}"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        sent = trickle_until_closed(sock, HEAD)
    assert 0 < sent < len(HEAD), f"the connection stayed open for {sent} of {len(HEAD)} bytes"


def test_a_request_sent_at_once_is_answered(indicators: int) -> None:
    with socket.create_connection(("127.0.0.1", indicators), timeout=10) as sock:
        sock.sendall(HEAD)
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
