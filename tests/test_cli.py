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


def test_extract_prints_guideline_jsonl(tmp_path: Path) -> None:
    report = tmp_path / "ha-tinh-2023.txt"
    report.write_text(
        "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh Hà Tĩnh đạt 1.450.000 thuê bao, "
        "tăng 2,5% so với cùng kỳ.\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["extract", str(report), "--jsonl"])
    assert result.exit_code == 0, result.output
    facts = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert facts, "no fact extracted"
    level = next(fact for fact in facts if fact["text"] == "1.450.000")
    assert list(level)[:4] == ["doc", "start", "end", "text"]
    assert level["doc"] == "ha-tinh-2023.txt"
    assert (level["value"], level["unit"], level["period"]) == (1450000, "count", "2023")
    assert level["scope"] == "VN-42"


def test_extract_hints_apply(tmp_path: Path) -> None:
    report = tmp_path / "no-dates.txt"
    report.write_text("Tổng số thuê bao Internet đạt 250.000 thuê bao.\n", encoding="utf-8")
    result = runner.invoke(
        app, ["extract", str(report), "--jsonl", "--published", "2021-06", "--scope", "VN-01"]
    )
    assert result.exit_code == 0, result.output
    fact = json.loads(result.output.splitlines()[0])
    assert fact["period"].startswith("2021")
    assert fact["scope"] == "VN-01"


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
