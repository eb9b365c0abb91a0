"""Where a running suite says it runs, so that other `chiso` commands can find it.

`chiso up` (and `chiso demo`) write one small JSON file per suite into a per-user folder while
the suite runs: its data dir, host, ports, log folder and the PID of the command. `chiso
clients ...` without `--data-dir` reads them to use the running gateway's database rather than
create a fresh one in `./.chiso` that the running gateway never reads.

The folder is `CHISO_STATE_DIR` when set (the tests give each test its own), else
`$XDG_STATE_HOME/chiso/running` (by default `~/.local/state/chiso/running`). A file whose PID no
longer runs (a suite killed with SIGKILL) is stale: it is ignored and removed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from chiso.suite import SERVICES, SuiteConfig

STATE_DIR_ENV = "CHISO_STATE_DIR"


class RunningSuite(BaseModel):
    model_config = ConfigDict(frozen=True)

    pid: int
    data_dir: str
    host: str
    ports: dict[str, int]
    log_dir: str | None = None
    # The gateway's database is a URL (CHISO_GATEWAY_DATABASE_URL), not `<data_dir>/gateway.db`.
    # Only that it is: a URL may hold a password, which has no place in this file.
    gateway_database_url: bool = False

    def url(self, service: str) -> str:
        return f"http://{self.host}:{self.ports[service]}"


def state_dir() -> Path:
    configured = os.environ.get(STATE_DIR_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "chiso" / "running"


@contextlib.contextmanager
def announced(config: SuiteConfig, log_dir: Path | None) -> Iterator[RunningSuite]:
    """Record the suite as running for the block (call it once the suite is up)."""
    suite = RunningSuite(
        pid=os.getpid(),
        data_dir=str(config.data_dir.resolve()),
        host=config.host,
        ports={service: config.port(service) for service in SERVICES},
        log_dir=str(log_dir) if log_dir is not None else None,
        gateway_database_url=bool(
            config.database_urls.get("gateway")
            or config.extra_env.get("CHISO_GATEWAY_DATABASE_URL")
            or os.environ.get("CHISO_GATEWAY_DATABASE_URL")
        ),
    )
    # The gateway port identifies a suite on this machine: two cannot share it.
    path = state_dir() / f"suite-{config.gateway_port}.json"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: a reader never sees half a file.
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(suite.model_dump_json(), encoding="utf-8")
        partial.replace(path)
    except OSError:
        pass  # only a convenience for other commands: a read-only home must not stop the suite
    try:
        yield suite
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


def running_suites() -> list[RunningSuite]:
    """The suites that say they run and whose command still runs (the records of those that
    ended without removing theirs, killed with SIGKILL, are removed)."""
    folder = state_dir()
    found: list[RunningSuite] = []
    for path in sorted(folder.glob("suite-*.json")) if folder.is_dir() else []:
        suite = _read(path)
        if suite is None:
            continue  # not ours to judge: left as it is
        if _alive(suite.pid):
            found.append(suite)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return found


def _read(path: Path) -> RunningSuite | None:
    try:
        return RunningSuite.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # runs, as another user
    return True
