"""Traces over real HTTP: a caller's W3C `traceparent` through gateway, ingest (request, worker
extraction, outbox delivery) and indicators, exported by OTLP to a receiver in the test; and,
with export off, the context still carried on. The request id stays as it was."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from sqlalchemy import select

from chiso_gateway.main import create_app as create_gateway
from chiso_indicators.main import create_app as create_indicators
from chiso_indicators.settings import Settings as IndicatorsSettings
from chiso_ingest.db.models import Job, OutboxMessage
from chiso_ingest.main import create_app as create_ingest
from chiso_ingest.settings import Settings as IngestSettings
from chiso_shared.db import create_engine, create_sessionmaker
from chiso_shared.http import HttpClientSettings
from chiso_shared.logging import JsonFormatter
from chiso_shared.tracing import REQUEST_ID_ATTRIBUTE, TraceContext, traces_url
from tests.gateway.support import gateway_settings, new_client
from tests.support import service_headers, serving

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
TRACESTATE = "congo=t61rcWkgMzE"
REVIEW_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
REVIEWER_SPAN = "b7ad6b7169203331"
REVIEW_TRACEPARENT = f"00-{REVIEW_TRACE_ID}-{REVIEWER_SPAN}-01"
REPORT = (
    "BÁO CÁO CÔNG TÁC THÔNG TIN VÀ TRUYỀN THÔNG TỈNH NGHỆ AN NĂM 2023\n"
    "Năm 2023, tổng số thuê bao điện thoại trên địa bàn tỉnh Nghệ An đạt 3.120.000 thuê bao.\n"
)
SERVER, CLIENT, INTERNAL = 2, 3, 1  # the OTLP span kinds used here


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    trace_state: str
    attributes: dict[str, Any]


class Receiver:
    """An OTLP/HTTP traces receiver: what each export request carried, decoded."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/traces")
        async def export(request: Request) -> Response:
            body = await request.body()
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            message = ExportTraceServiceRequest()
            message.ParseFromString(body)
            self.spans.extend(_spans(message))
            return Response(
                ExportTraceServiceResponse().SerializeToString(),
                media_type="application/x-protobuf",
            )

        return app

    def services(self) -> set[str]:
        return {span.service for span in self.spans}

    def of_trace(self, trace_id: str) -> list[ReceivedSpan]:
        return [span for span in self.spans if span.trace_id == trace_id]


def _value(any_value: Any) -> Any:
    return getattr(any_value, any_value.WhichOneof("value"))


def _spans(message: ExportTraceServiceRequest) -> Iterator[ReceivedSpan]:
    for resource_spans in message.resource_spans:
        resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield ReceivedSpan(
                    service=resource["service.name"],
                    name=span.name,
                    kind=span.kind,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_id=span.parent_span_id.hex(),
                    trace_state=span.trace_state,
                    attributes={kv.key: _value(kv.value) for kv in span.attributes},
                )


def one(spans: list[ReceivedSpan], service: str, kind: int, name: str) -> ReceivedSpan:
    found = [s for s in spans if (s.service, s.kind, s.name) == (service, kind, name)]
    assert len(found) == 1, (service, kind, name, [(s.service, s.name) for s in spans])
    return found[0]


@dataclass
class Suite:
    gateway: str
    ingest: str
    token: dict[str, str]


def start_suite(
    tmp_path: Path, databases: dict[str, str], exporting: dict[str, str], *, stack: ExitStack
) -> Suite:
    """Indicators, ingest (with its worker) and the gateway on free ports; `exporting` gives
    the OTLP endpoint of the services that export (the others leave it empty)."""
    indicators = stack.enter_context(
        serving(
            create_indicators(
                IndicatorsSettings(
                    data_dir=tmp_path,
                    database_url=databases["indicators"],
                    otlp_endpoint=exporting.get("indicators", ""),
                )
            )
        )
    )
    ingest = stack.enter_context(
        serving(
            create_ingest(
                IngestSettings(
                    data_dir=tmp_path,
                    database_url=databases["ingest"],
                    indicators_url=indicators,
                    poll_interval=0.05,
                    otlp_endpoint=exporting.get("ingest", ""),
                )
            )
        )
    )
    settings = gateway_settings(
        tmp_path,
        databases["gateway"],
        indicators,
        ingest_url=ingest,
        otlp_endpoint=exporting.get("gateway", ""),
        # an upload is read in a child process: on a loaded machine that can outlast 10 s
        http=HttpClientSettings(read_timeout=60),
    )
    gateway = stack.enter_context(serving(create_gateway(settings)))
    client = asyncio.run(new_client(settings, ["documents:write"]))
    token = httpx.post(
        f"{gateway}/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(client.client_id, client.client_secret),
    )
    assert token.status_code == 200, token.text
    return Suite(gateway, ingest, {"Authorization": f"Bearer {token.json()['access_token']}"})


def upload(suite: Suite, headers: dict[str, str]) -> httpx.Response:
    response = httpx.post(
        f"{suite.gateway}/v1/documents",
        json={"filename": "nghe-an-2023.txt", "text": REPORT},
        headers={**suite.token, **headers},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return response


def wait_delivered(suite: Suite, document_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(
            f"{suite.ingest}/v1/documents/{document_id}", headers=service_headers("ingest")
        )
        status = response.json()["status"]
        if status == "delivered":
            return
        assert status != "failed", response.text
        assert time.monotonic() < deadline, f"still {status} after {timeout}s"
        time.sleep(0.1)


@pytest.fixture
def databases(ingest_db: str, indicators_db: str, gateway_db: str) -> dict[str, str]:
    return {"ingest": ingest_db, "indicators": indicators_db, "gateway": gateway_db}


def test_one_trace_from_the_caller_through_the_outbox_to_indicators(
    tmp_path: Path, databases: dict[str, str]
) -> None:
    receiver = Receiver()
    with serving(receiver.app()) as otlp, ExitStack() as stack:
        suite = start_suite(tmp_path, databases, dict.fromkeys(databases, otlp), stack=stack)
        response = upload(suite, {"traceparent": TRACEPARENT, "X-Request-ID": "trace-test-1"})
        assert response.headers["X-Request-ID"] == "trace-test-1"  # the request id stays
        document_id = response.json()["data"]["id"]
        wait_delivered(suite, document_id)
        # A probe, and a request that brings no request id of its own.
        assert httpx.get(f"{suite.gateway}/readyz").status_code == 200
        own = httpx.get(f"{suite.gateway}/v1/documents/{document_id}", headers=suite.token)
        assert own.status_code == 200, own.text
        stack.close()  # each service flushes its spans as it stops
        spans = receiver.of_trace(TRACE_ID)

    gateway = one(spans, "gateway", SERVER, "POST /v1/documents")
    to_ingest = one(spans, "gateway", CLIENT, "POST")
    at_ingest = one(spans, "ingest", SERVER, "POST /v1/documents")
    extract = one(spans, "ingest", INTERNAL, "ingest.extract")
    deliver = one(spans, "ingest", INTERNAL, "ingest.deliver")
    to_indicators = one(spans, "ingest", CLIENT, "POST")
    imported = one(spans, "indicators", SERVER, "POST /v1/facts")
    # each span is the child of the one before: the caller's span, the gateway's request and
    # its call to ingest, ingest's request, the worker's extraction (a job written in that
    # request), the delivery (an outbox row written by the extraction), its call, the import
    assert gateway.parent_id == CALLER_SPAN
    chain = [gateway, to_ingest, at_ingest, extract, deliver, to_indicators, imported]
    for parent, child in zip(chain, chain[1:], strict=False):
        assert child.parent_id == parent.span_id, (parent.name, child.name)
    assert extract.attributes["chiso.document_id"] == deliver.attributes["chiso.document_id"]
    assert extract.attributes["chiso.fact_count"] >= 1
    # the request id is the span's attribute, and passed on as before
    assert gateway.attributes[REQUEST_ID_ATTRIBUTE] == "trace-test-1"
    assert at_ingest.attributes[REQUEST_ID_ATTRIBUTE] == "trace-test-1"
    generated = [
        s
        for s in receiver.spans
        if (s.service, s.kind, s.name) == ("gateway", SERVER, "GET /v1/documents/{document_id}")
    ]
    assert [s.attributes[REQUEST_ID_ATTRIBUTE] for s in generated] == [own.headers["X-Request-ID"]]
    # the probes, and the calls the readiness check made, left no span
    paths = {str(s.attributes.get("url.path", s.attributes.get("http.target"))) for s in spans}
    assert not {"/healthz", "/readyz"} & paths
    assert not [s for s in receiver.spans if s.name.endswith(("/healthz", "/readyz"))]
    assert not [s for s in receiver.spans if s.kind == CLIENT and s.parent_id == ""]


def test_with_export_off_the_context_is_still_carried_through_the_outbox(
    tmp_path: Path, databases: dict[str, str]
) -> None:
    """Gateway and ingest do not export; indicators does, so its import span shows the context
    ingest delivered with: the caller's, unchanged, through the job and the outbox row."""
    receiver = Receiver()
    with serving(receiver.app()) as otlp, ExitStack() as stack:
        suite = start_suite(tmp_path, databases, {"indicators": otlp}, stack=stack)
        response = upload(
            suite,
            {"traceparent": TRACEPARENT, "tracestate": TRACESTATE, "X-Request-ID": "trace-off"},
        )
        assert response.headers["X-Request-ID"] == "trace-off"
        document_id = response.json()["data"]["id"]
        wait_delivered(suite, document_id)
        # A review's correction goes to indicators through the outbox too, in its own trace.
        review_response = review_first_fact(suite, document_id, REVIEW_TRACEPARENT)
        assert review_response.status_code == 201, review_response.text
        wait_delivered(suite, document_id)
        stack.close()

    assert receiver.services() == {"indicators"}  # nothing exported by the others
    imported = one(receiver.of_trace(TRACE_ID), "indicators", SERVER, "POST /v1/facts")
    assert imported.parent_id == CALLER_SPAN
    assert imported.trace_state == TRACESTATE
    reviewed = one(receiver.of_trace(REVIEW_TRACE_ID), "indicators", SERVER, "POST /v1/facts")
    assert reviewed.parent_id == REVIEWER_SPAN
    stored = asyncio.run(stored_contexts(databases["ingest"], document_id))
    assert stored == {
        "jobs": [(TRACEPARENT, TRACESTATE)],
        "outbox": [(TRACEPARENT, TRACESTATE), (REVIEW_TRACEPARENT, None)],
    }


def review_first_fact(suite: Suite, document_id: str, traceparent: str) -> httpx.Response:
    """Accept the document's first fact, as the gateway would ask ingest to."""
    headers = {**service_headers("ingest"), "traceparent": traceparent}
    found = httpx.get(f"{suite.ingest}/v1/documents/{document_id}/facts", headers=headers)
    assert found.status_code == 200, found.text
    first = found.json()["facts"][0]
    body = {"action": "accept", "start": first["start"], "end": first["end"], "reviewer": "t"}
    return httpx.post(
        f"{suite.ingest}/v1/documents/{document_id}/reviews", json=body, headers=headers
    )


async def stored_contexts(url: str, document_id: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            found: dict[str, list[tuple[Any, ...]]] = {}
            for name, table in (("jobs", Job), ("outbox", OutboxMessage)):
                rows = await session.execute(
                    select(table.traceparent, table.tracestate)
                    .where(table.document_id == document_id)
                    .order_by(table.id)
                )
                found[name] = [tuple(row) for row in rows]
            return found
    finally:
        await engine.dispose()


def test_without_a_traceparent_nothing_is_stored_or_sent(
    tmp_path: Path, databases: dict[str, str]
) -> None:
    receiver = Receiver()
    with serving(receiver.app()) as otlp, ExitStack() as stack:
        suite = start_suite(tmp_path, databases, {"indicators": otlp}, stack=stack)
        document_id = upload(suite, {}).json()["data"]["id"]
        wait_delivered(suite, document_id)
        stack.close()

    imported = one(receiver.spans, "indicators", SERVER, "POST /v1/facts")
    assert imported.parent_id == ""  # a trace of its own: nothing came with the delivery
    stored = asyncio.run(stored_contexts(databases["ingest"], document_id))
    assert stored == {"jobs": [(None, None)], "outbox": [(None, None)]}


def test_log_lines_name_the_trace_with_export_off(tmp_path: Path, ingest_db: str) -> None:
    """The server's access line for a request that came with a `traceparent` has its trace id
    beside the request id, though the service exports nothing."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("test"))
    root = logging.getLogger()
    settings = IngestSettings(data_dir=tmp_path, database_url=ingest_db, run_worker=False)
    try:
        with serving(create_ingest(settings)) as url:
            root.addHandler(handler)  # after the lifespan installed the service's handler
            headers = {"traceparent": TRACEPARENT, "X-Request-ID": "logged-1"}
            assert httpx.get(f"{url}/healthz", headers=headers).status_code == 200
            assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if "/healthz" in line]
    assert [(line.get("trace_id"), line.get("span_id")) for line in lines] == [
        (TRACE_ID, CALLER_SPAN),
        (None, None),
    ]
    assert lines[0]["request_id"] == "logged-1"


def test_a_stored_context_is_the_parent_of_later_work() -> None:
    context = TraceContext(TRACEPARENT, TRACESTATE).as_context()
    from opentelemetry import trace

    parent = trace.get_current_span(context).get_span_context()
    assert (format(parent.trace_id, "032x"), format(parent.span_id, "016x")) == (
        TRACE_ID,
        CALLER_SPAN,
    )
    assert parent.trace_state.to_header() == TRACESTATE
    assert not trace.get_current_span(TraceContext().as_context()).get_span_context().is_valid
    assert not trace.get_current_span(TraceContext("garbage").as_context()).is_recording()


def test_the_endpoint_is_a_base_url() -> None:
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/v1/traces") == "http://collector:4318/v1/traces"
