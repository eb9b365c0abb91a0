"""The `chiso` command line, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chiso.cli import app

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
