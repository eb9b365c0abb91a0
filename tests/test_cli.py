"""The `chiso` command line, in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chiso.cli import app
from tests.support import free_port

runner = CliRunner()


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("up", "demo", "extract", "serve", "migrate", "clients"):
        assert command in result.output


def test_clients_create_prints_credentials_once(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "clients",
            "create",
            "hue-s",
            "--scopes",
            "indicators:read,catalog:read",
            "--json",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"client_id", "client_secret"}
    listed = runner.invoke(app, ["clients", "list", "--json", "--data-dir", str(tmp_path)])
    assert created["client_id"] in listed.output
    assert created["client_secret"] not in listed.output


@pytest.mark.parametrize("scopes", ["indicators:write", ""])
def test_clients_create_refuses_bad_scopes(tmp_path: Path, scopes: str) -> None:
    result = runner.invoke(
        app, ["clients", "create", "x", "--scopes", scopes, "--data-dir", str(tmp_path)]
    )
    assert result.exit_code == 2


def test_ingest_against_a_gateway_that_is_down_says_so_in_one_line(tmp_path: Path) -> None:
    report = tmp_path / "a.txt"
    report.write_text("Tổng số thuê bao đạt 1.000 thuê bao.", encoding="utf-8")
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    args = ["ingest", str(report), "--gateway", url, "--client-id", "a", "--client-secret", "b"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"cannot reach the gateway at {url}" in result.output
    assert "không kết nối được tới gateway" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def no_gateway_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A folder to run from, and no gateway data dir or database named in the environment:
    what a person has who types `chiso clients create` with no --data-dir."""
    monkeypatch.delenv("CHISO_GATEWAY_DATA_DIR", raising=False)
    monkeypatch.delenv("CHISO_GATEWAY_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_clients_refuse_to_create_an_empty_database_when_no_suite_runs(
    no_gateway_env: Path,
) -> None:
    result = runner.invoke(app, ["clients", "create", "x", "--scopes", "indicators:read"])
    assert result.exit_code == 2
    assert "no chiso suite is running and there is no gateway database" in result.output
    assert "không có chiso nào đang chạy" in result.output
    assert "--data-dir" in result.output
    assert not (no_gateway_env / ".chiso").exists()  # nothing made silently


def test_clients_use_an_existing_default_database(no_gateway_env: Path) -> None:
    args = ["clients", "create", "x", "--scopes", "indicators:read", "--json"]
    made = runner.invoke(app, [*args, "--data-dir", ".chiso"])  # named: made there
    assert made.exit_code == 0, made.output
    again = runner.invoke(app, args)  # not named: ./.chiso holds a gateway database now
    assert again.exit_code == 0, again.output
    listed = runner.invoke(app, ["clients", "list", "--json"])
    assert len(json.loads(listed.output)) == 2


def record(state: Path, port: int, data_dir: Path, pid: int) -> Path:
    path = state / f"suite-{port}.json"
    ports = {"gateway": port, "ingest": port + 1, "indicators": port + 2}
    path.write_text(
        json.dumps({"pid": pid, "data_dir": str(data_dir), "host": "127.0.0.1", "ports": ports}),
        encoding="utf-8",
    )
    return path


def test_clients_ignore_and_remove_a_stale_suite_record(
    no_gateway_env: Path, suite_state_dir: Path
) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # its pid runs no longer: a suite killed with SIGKILL left this record
    stale = record(suite_state_dir, 18000, no_gateway_env / "gone", ended.pid)
    result = runner.invoke(app, ["clients", "list"])
    assert result.exit_code == 2
    assert "no chiso suite is running" in result.output
    assert not stale.exists()


def test_clients_refuse_to_guess_between_two_running_suites(
    no_gateway_env: Path, suite_state_dir: Path
) -> None:
    for port, name in ((18000, "a"), (18010, "b")):
        record(suite_state_dir, port, no_gateway_env / name, os.getpid())
    result = runner.invoke(app, ["clients", "list"])
    assert result.exit_code == 2
    assert "several chiso suites are running" in result.output
    assert "có nhiều chiso đang chạy" in result.output
    assert str(no_gateway_env / "a") in result.output and str(no_gateway_env / "b") in result.output


def test_help_and_an_unknown_command_read_in_both_languages() -> None:
    for args in (["--help"], ["clients", "--help"], ["up", "--help"], ["ingest", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Cách dùng (Usage)" in result.output
    top = runner.invoke(app, ["--help"]).output
    assert "Lệnh (Commands)" in top and "Cài tự hoàn thành" in top
    wrong = runner.invoke(app, ["clients", "creat"])
    assert wrong.exit_code == 2
    assert "không có lệnh 'creat'" in wrong.output and "No such command 'creat'" in wrong.output


def test_clients_do_not_guess_the_database_of_a_suite_on_a_database_url(
    no_gateway_env: Path, suite_state_dir: Path
) -> None:
    """A suite whose gateway keeps its database at CHISO_GATEWAY_DATABASE_URL (PostgreSQL):
    its data dir holds no gateway.db, and a fresh one made there would be the wrong one."""
    path = record(suite_state_dir, 18000, no_gateway_env / "pg", os.getpid())
    path.write_text(
        json.dumps({**json.loads(path.read_text()), "gateway_database_url": True}),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["clients", "create", "x", "--scopes", "indicators:read"])
    assert result.exit_code == 2
    assert "keeps its database at CHISO_GATEWAY_DATABASE_URL" in result.output
    assert not (no_gateway_env / "pg").exists()
