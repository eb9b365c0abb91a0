"""Run the three services as local processes, and stop them by process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from chiso_shared.service_auth import DEV_KEY_FILE, dev_secret

SERVICES = ("indicators", "ingest", "gateway")


@dataclass(frozen=True)
class SuiteConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    gateway_port: int = 8000
    ingest_port: int = 8001
    indicators_port: int = 8002
    database_urls: Mapping[str, str] = field(default_factory=dict)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    log_level: str = "WARNING"
    # The secret the three services sign and check their calls to each other with; by default
    # a random key kept in the data dir, which `chiso ingest --reextract` (and services started
    # by hand on the same data dir) find there too.
    service_token_secret: str | None = None

    def token_secret(self) -> str:
        return self.service_token_secret or dev_secret(self.data_dir / DEV_KEY_FILE)

    def port(self, service: str) -> int:
        return {
            "gateway": self.gateway_port,
            "ingest": self.ingest_port,
            "indicators": self.indicators_port,
        }[service]

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.port(service)}"

    def env(self, service: str) -> dict[str, str]:
        prefix = f"CHISO_{service.upper()}_"
        env = {
            prefix + "DATA_DIR": str(self.data_dir),
            prefix + "LOG_LEVEL": self.log_level,
            prefix + "SERVICE_TOKEN_SECRET": self.token_secret(),
        }
        if service in self.database_urls:
            env[prefix + "DATABASE_URL"] = self.database_urls[service]
        if service == "ingest":
            env[prefix + "INDICATORS_URL"] = self.url("indicators")
        if service == "gateway":
            env[prefix + "INGEST_URL"] = self.url("ingest")
            env[prefix + "INDICATORS_URL"] = self.url("indicators")
        return env


class SuiteError(RuntimeError):
    """The suite could not start (a bilingual message), naming the service at fault if any."""

    def __init__(self, message: str, service: str | None = None) -> None:
        super().__init__(message)
        self.service = service


class Suite:
    """The three services as child processes, each in its own process group."""

    def __init__(self, config: SuiteConfig, *, log_dir: Path | None = None) -> None:
        self.config = config
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, service: str) -> None:
        env = {**os.environ, **self.config.env(service), **self.config.extra_env}
        command = [
            sys.executable,
            "-m",
            "chiso",
            "serve",
            service,
            "--host",
            self.config.host,
            "--port",
            str(self.config.port(service)),
        ]
        log = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = (self.log_dir / f"{service}.log").open("ab")
        try:
            self.processes[service] = subprocess.Popen(
                command, env=env, stdout=log, stderr=log, start_new_session=True
            )
        finally:
            if log is not None:
                log.close()  # the child holds its own descriptor

    def check_ports(self) -> None:
        for service in SERVICES:
            port = self.config.port(service)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                # Bind as uvicorn will (SO_REUSEADDR): a port whose last connections sit in
                # TIME_WAIT for a minute after a stop is free to it, one something listens on
                # is not (Linux refuses that bind even with SO_REUSEADDR).
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((self.config.host, port))
                except OSError as exc:
                    raise SuiteError(
                        f"cổng {port} của {service} trên {self.config.host} đang bị dùng (chọn "
                        f"cổng khác bằng --{service}-port) / port {port} for {service} on "
                        f"{self.config.host} is in use (choose another with --{service}-port)"
                    ) from exc

    def start_all(self, timeout: float = 60) -> None:
        self.check_ports()
        for service in SERVICES:
            self.start(service)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60, services: tuple[str, ...] = SERVICES) -> None:
        deadline = time.monotonic() + timeout
        pending = list(services)
        with httpx.Client(timeout=2) as client:
            while pending:
                service = pending[0]
                process = self.processes[service]
                if process.poll() is not None:
                    raise SuiteError(
                        f"{service} đã dừng với mã {process.returncode} / "
                        f"{service} exited with code {process.returncode}",
                        service,
                    )
                try:
                    if client.get(self.config.url(service) + "/healthz").status_code == 200:
                        pending.pop(0)
                        continue
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SuiteError(
                        f"{service} chưa sẵn sàng sau {timeout:.0f} giây / "
                        f"{service} did not become healthy in {timeout:.0f}s",
                        service,
                    )
                time.sleep(0.1)

    def stop(self, service: str, timeout: float = 15) -> None:
        """SIGTERM the service's process group, SIGKILL it after `timeout` seconds; then
        SIGKILL whatever is left in the group (the ingest readers' fork server)."""
        process = self.processes.pop(service, None)
        if process is None or process.returncode is not None:
            return
        _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while not _exited(process) and time.monotonic() < deadline:
            time.sleep(0.05)
        # The leader is a zombie or still running, so its group id is still its own.
        _signal_group(process, signal.SIGKILL)
        process.wait()

    def kill(self, service: str) -> None:
        """Stop a service abruptly (SIGKILL), as a crash would."""
        process = self.processes.pop(service, None)
        if process is not None and process.returncode is None:
            _signal_group(process, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        """Stop every service. SIGINT and SIGTERM are ignored meanwhile: a second Ctrl-C (or
        `uv run` passing one Ctrl-C on twice) must not cut the stop short and leave the
        other services running; stopping is what they ask for anyway."""
        with _signals_ignored(signal.SIGINT, signal.SIGTERM):
            for service in reversed(SERVICES):
                self.stop(service)

    def wait(self) -> str:
        """Block until one service exits; return its name (it is left unreaped, so `stop`
        can still clear its process group)."""
        while True:
            for name, process in self.processes.items():
                if _exited(process):
                    return name
            time.sleep(0.2)

    def __enter__(self) -> Suite:
        try:
            self.start_all()
        except BaseException:
            self.stop_all()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


def _exited(process: subprocess.Popen[bytes]) -> bool:
    """Whether `process` has ended, without reaping it: until it is reaped its pid, and so
    its process group id, cannot be given to another process."""
    if process.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


@contextlib.contextmanager
def _signals_ignored(*signums: int) -> Iterator[None]:
    """Ignore `signums` in this process for the block (only the main thread can: elsewhere
    nothing changes). A no-op handler rather than SIG_IGN, which children would inherit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _ignore) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _ignore(_signum: int, _frame: object) -> None:
    pass
