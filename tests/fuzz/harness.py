"""A bounded, reproducible schemathesis run against one live service's OpenAPI document.

Each operation gets the same fixed number of generated requests (valid and invalid ones, the
document's own examples, and requests whose path names rows the test seeded), drawn with a
derandomized hypothesis so that CI sees the same requests on every run. Every response is
checked, one check at a time so each finding names its check; findings are collected, not
raised, so one run reports everything it found rather than the first failure.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

Check = Callable[..., Any]

# The checks every response goes through, by the name a finding reports.
CHECKS: dict[str, Check] = {
    "not_a_server_error": schemathesis.checks.not_a_server_error,
    "status_code_conformance": status_code_conformance,
    "content_type_conformance": content_type_conformance,
    "response_schema_conformance": response_schema_conformance,
}


@dataclass(frozen=True)
class Target:
    """A running service: where it answers, what every request carries, which rows exist."""

    service: str
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    # Path parameters that name seeded rows, per operation label ("GET /v1/areas/{code}").
    known_paths: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)
    # Query parameters set to seeded values, per operation label.
    known_queries: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    # Findings that are known and fixed elsewhere: reported apart, not as failures.
    known_elsewhere: Callable[[Finding], bool] = lambda _finding: False


@dataclass(frozen=True)
class Finding:
    """One check failing on one operation: the first request that showed it, and how often."""

    operation: str
    check: str
    status: int
    title: str
    message: str
    request: str
    response: str


@dataclass
class Report:
    service: str
    operations: int = 0
    examples: int = 0
    seconds: float = 0.0
    # By (operation, check, status): the first request that showed it, and how many did;
    # findings the target knows of (fixed elsewhere) are kept apart, so that they never hide
    # another failure of the same check on the same operation.
    findings: dict[tuple[str, str, int], Finding] = field(default_factory=dict)
    known: dict[tuple[str, str, int], Finding] = field(default_factory=dict)
    counts: Counter[tuple[str, str, int, bool]] = field(default_factory=Counter)

    def add(self, finding: Finding, *, known: bool) -> None:
        key = (finding.operation, finding.check, finding.status)
        (self.known if known else self.findings).setdefault(key, finding)
        self.counts[(*key, known)] += 1


# Where the tests leave their reports for the run's closing summary (tests/fuzz/conftest.py).
REPORTS = pytest.StashKey[list[Report]]()


def _strategies(operation: Any, target: Target) -> Iterator[st.SearchStrategy[Any]]:
    yield operation.as_strategy(GenerationMode.POSITIVE)
    yield operation.as_strategy(GenerationMode.NEGATIVE)
    yield from operation.schema.get_strategies_from_examples(operation)
    for name, values in target.known_paths.get(operation.label, {}).items():
        paths = [{name: value} for value in values]
        yield st.sampled_from(paths).flatmap(
            lambda path: operation.as_strategy(path_parameters=path)
        )
    queries = [dict(query) for query in target.known_queries.get(operation.label, ())]
    if queries:
        yield st.sampled_from(queries).flatmap(lambda query: operation.as_strategy(query=query))


def _describe(response: requests.Response) -> str:
    body = response.text
    return f"{response.status_code} {response.headers.get('content-type', '')}: {body[:300]!r}"


def _request(response: requests.Response) -> str:
    sent = response.request
    body = sent.body
    if isinstance(body, bytes | str):
        body = body[:300]
    return f"{sent.method} {sent.url} body={body!r}"


def _run_operation(
    operation: Any, target: Target, session: requests.Session, report: Report, examples: int
) -> None:
    headers = dict(target.headers)

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        # No shrinking: a finding keeps the first request that showed it, and the run stays
        # bounded by `examples` requests per operation.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=st.one_of(*_strategies(operation, target)))
    def exercise(case: Any) -> None:
        response = case.call(base_url=target.base_url, session=session, headers=headers, timeout=60)
        report.examples += 1
        for name, check in CHECKS.items():
            try:
                case.validate_response(response, checks=[check], headers=headers)
            except FailureGroup as group:
                failure: Failure = group.exceptions[0]
                finding = Finding(
                    operation=operation.label,
                    check=name,
                    status=response.status_code,
                    title=failure.title,
                    message=failure.message[:600],
                    request=_request(response),
                    response=_describe(response),
                )
                report.add(finding, known=target.known_elsewhere(finding))

    exercise()


def fuzz(target: Target, *, examples: int) -> Report:
    """Send `examples` generated requests to every operation of `target`; report what failed."""
    report = Report(service=target.service)
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{target.base_url}/openapi.json")
    with requests.Session() as session:
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            operation = result.ok()
            report.operations += 1
            _run_operation(operation, target, session, report, examples)
    report.seconds = time.monotonic() - started
    return report
