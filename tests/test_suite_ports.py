"""The suite's port check refuses a port something listens on, not one in TIME_WAIT."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from chiso.suite import Suite, SuiteConfig, SuiteError
from tests.support import free_port


def config(tmp_path: Path, gateway_port: int) -> SuiteConfig:
    return SuiteConfig(
        data_dir=tmp_path,
        gateway_port=gateway_port,
        ingest_port=free_port(),
        indicators_port=free_port(),
    )


def time_wait_port() -> int:
    """A port whose only socket is in TIME_WAIT: a server (bound as uvicorn binds, with
    SO_REUSEADDR) closed an answered connection first, then stopped listening."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server closes first: its end goes to TIME_WAIT
        assert client.recv(1) == b""
        client.close()
    return port


def test_a_port_in_time_wait_is_free_for_the_suite(tmp_path: Path) -> None:
    port = time_wait_port()
    # What the old check did (a bind without SO_REUSEADDR) is refused, as the report says.
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))
    Suite(config(tmp_path, port)).check_ports()


def test_a_port_something_listens_on_is_refused(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        with pytest.raises(SuiteError, match=f"port {port} for gateway"):
            Suite(config(tmp_path, port)).check_ports()
