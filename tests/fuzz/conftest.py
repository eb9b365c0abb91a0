from __future__ import annotations

import pytest

from tests.fuzz.harness import REPORTS


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Per fuzzed service: how much was sent, how long it took, and what is known to fail
    still (fixed on other branches), so a CI log shows what the run covered."""
    reports = config.stash.get(REPORTS, [])
    if not reports:
        return
    terminalreporter.section("schemathesis")
    for report in reports:
        terminalreporter.write_line(
            f"{report.service}: {report.operations} operations, {report.examples} requests, "
            f"{report.seconds:.1f}s, {len(report.findings)} finding(s), "
            f"{len(report.known)} known and fixed elsewhere"
        )
        for (operation, check, status), _ in sorted(report.known.items()):
            count = report.counts[(operation, check, status, True)]
            terminalreporter.write_line(f"  known: {operation} [{check}] {status} x{count}")
