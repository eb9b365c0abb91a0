"""`chiso clients create --tier` and `clients list` against the gateway database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def chiso(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHISO_GATEWAY_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "chiso", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_create_with_tier_and_list(tmp_path: Path, gateway_db: str) -> None:
    created = chiso(
        "clients", "create", "hue-s", "--scopes", "indicators:read", "--tier", "gold",
        "--org", "000.00.46.H57", "--json", "--data-dir", str(tmp_path), database_url=gateway_db,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)
    assert set(body) == {"client_id", "client_secret"}
    listed = chiso(
        "clients", "list", "--json", "--data-dir", str(tmp_path), database_url=gateway_db
    )
    rows = json.loads(listed.stdout)
    assert [(row["client_id"], row["tier"], row["org"]) for row in rows] == [
        (body["client_id"], "gold", "000.00.46.H57")
    ]
    assert body["client_secret"] not in listed.stdout


def test_unknown_tier_is_refused(tmp_path: Path, gateway_db: str) -> None:
    refused = chiso(
        "clients", "create", "x", "--scopes", "indicators:read", "--tier", "platinum",
        "--data-dir", str(tmp_path), database_url=gateway_db,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "unknown tier 'platinum'" in refused.stderr


def test_create_with_an_area_and_refuse_an_unknown_one(tmp_path: Path, gateway_db: str) -> None:
    created = chiso(
        "clients", "create", "so-tttt-hue", "--scopes", "documents:write", "--area", "VN-46",
        "--json", "--data-dir", str(tmp_path), database_url=gateway_db,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    listed = chiso(
        "clients", "list", "--json", "--data-dir", str(tmp_path), database_url=gateway_db
    )
    assert [row["area"] for row in json.loads(listed.stdout)] == ["46"]
    refused = chiso(
        "clients", "create", "x", "--scopes", "documents:write", "--area", "Hue",
        "--data-dir", str(tmp_path), database_url=gateway_db,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "area" in refused.stderr
