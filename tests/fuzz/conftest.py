from __future__ import annotations

import pytest

from tests.fuzz.harness import REPORTS


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """One line per fuzzed service, so a CI log shows how much was sent and how long it took."""
    reports = config.stash.get(REPORTS, [])
    if not reports:
        return
    terminalreporter.section("schemathesis")
    for report in reports:
        terminalreporter.write_line(
            f"{report.service}: {report.operations} operations, {report.examples} requests, "
            f"{report.seconds:.1f}s, {len(report.findings)} finding(s)"
        )
