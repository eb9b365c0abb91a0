"""`./scripts/chiso`, the README's way to run the command, works whether uv is on PATH or was
installed into .tools/ by scripts/bootstrap (where `uv run chiso` finds no uv)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO

SCRIPT = REPO / "scripts" / "chiso"
TOOLS_UV = REPO / ".tools" / "bin" / "uv"


def path_without_uv() -> list[str]:
    """PATH's folders but those holding a `uv`."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return [folder for folder in folders if folder and not (Path(folder) / "uv").exists()]


def run_help(path: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": os.pathsep.join(path)}
    env.pop("CHISO_PROG", None)
    return subprocess.run(
        [str(SCRIPT), "--help"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.skipif(not TOOLS_UV.exists(), reason="uv was not bootstrapped into .tools/ here")
def test_the_script_finds_uv_in_tools_when_none_is_on_path(tmp_path: Path) -> None:
    assert shutil.which("uv", path=os.pathsep.join(path_without_uv())) is None
    done = run_help(path_without_uv(), cwd=tmp_path)  # from another folder, too
    assert done.returncode == 0, done.stderr
    assert "clients" in done.stdout and "ingest" in done.stdout


def test_the_script_uses_uv_on_path(tmp_path: Path) -> None:
    uv = shutil.which("uv") or (str(TOOLS_UV) if TOOLS_UV.exists() else None)
    if uv is None:
        pytest.skip("no uv here at all")
    folder = tmp_path / "bin"
    folder.mkdir()
    used = tmp_path / "used"
    # A uv on PATH that notes each call, then runs the real one.
    (folder / "uv").write_text(f'#!/bin/sh\necho "$1" >> "{used}"\nexec "{uv}" "$@"\n')
    (folder / "uv").chmod(0o755)
    done = run_help([str(folder), *path_without_uv()], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "clients" in done.stdout and "ingest" in done.stdout
    assert used.read_text().split() == ["sync", "run"]


def test_the_script_runs_in_the_callers_folder(tmp_path: Path) -> None:
    """A file named relative to where the person is, as in `./scripts/chiso ingest report.docx`
    from their own folder."""
    (tmp_path / "report.txt").write_text(
        "Tổng số thuê bao điện thoại của tỉnh Nghệ An đạt 3.100.000 thuê bao năm 2023.\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(SCRIPT), "extract", "report.txt", "--jsonl"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"value": 3100000,' in done.stdout, done.stdout
