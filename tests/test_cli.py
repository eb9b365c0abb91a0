"""The `chiso` command line, in-process."""

from __future__ import annotations

import json
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
