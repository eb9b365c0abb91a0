"""`chiso ingest` against the real suite: a folder in, a summary of documents, facts, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chiso.admin import create_client, gateway_settings
from chiso.cli import app
from chiso.suite import Suite, SuiteConfig
from tests.ingest.builders import make_docx, noise
from tests.support import free_port

pytestmark = pytest.mark.slow
REPORT = "Năm 2023, tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao.\n"


@pytest.fixture
def suite(
    tmp_path: Path, ingest_db: str, indicators_db: str, gateway_db: str
) -> Iterator[tuple[SuiteConfig, dict[str, str]]]:
    config = SuiteConfig(
        data_dir=tmp_path,
        gateway_port=free_port(),
        ingest_port=free_port(),
        indicators_port=free_port(),
        database_urls={"ingest": ingest_db, "indicators": indicators_db, "gateway": gateway_db},
        extra_env={"CHISO_INGEST_POLL_INTERVAL": "0.1"},
    )
    created = asyncio.run(
        create_client("cli", ["documents:write"], "test", gateway_settings(tmp_path, gateway_db))
    )
    env = {
        "CHISO_GATEWAY_URL": config.url("gateway"),
        "CHISO_CLIENT_ID": created.client_id,
        "CHISO_CLIENT_SECRET": created.client_secret,
    }
    with Suite(config, log_dir=tmp_path / "logs"):
        yield config, env


def test_a_folder_is_ingested_with_a_summary(
    suite: tuple[SuiteConfig, dict[str, str]], tmp_path: Path
) -> None:
    _config, env = suite
    folder = tmp_path / "reports"
    (folder / "2023").mkdir(parents=True)
    (folder / "nghe-an.txt").write_text(REPORT, encoding="utf-8")
    (folder / "2023" / "ha-tinh.docx").write_bytes(
        make_docx([REPORT.replace("Nghệ An", "Hà Tĩnh").replace("3.100.000", "1.450.000")])
    )
    (folder / "2023" / "scan.pdf").write_bytes(noise(2048, 9))
    (folder / "notes.bin").write_bytes(b"skipped: not a report suffix")

    result = CliRunner().invoke(app, ["ingest", str(folder), "--timeout", "120"], env=env)
    assert result.exit_code == 1, result.output  # one failure
    assert "documents: 2 (0 already known)" in result.output
    assert "failures: 1" in result.output
    assert "scan.pdf: 422 ingest.bad_pdf" in result.output
    facts = int(result.output.split("facts: ")[1].split()[0])
    assert facts >= 2

    again = CliRunner().invoke(app, ["ingest", str(folder / "nghe-an.txt")], env=env)
    assert again.exit_code == 0, again.output
    assert "documents: 1 (1 already known)" in again.output


def test_missing_credentials_are_a_usage_error(tmp_path: Path) -> None:
    report = tmp_path / "a.txt"
    report.write_text(REPORT, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["ingest", str(report)], env={"CHISO_CLIENT_ID": "", "CHISO_CLIENT_SECRET": ""}
    )
    assert result.exit_code == 2
    assert "client-secret" in result.output
