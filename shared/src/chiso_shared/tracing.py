"""Traces: OpenTelemetry spans, the W3C trace context passed on, OTLP export when configured.

Two modes, chosen per app by `OTLP_ENDPOINT`:

- off (the default): no spans are made and nothing is exported. A request's incoming
  `traceparent` (and `tracestate`) is still made the current context, so every call the
  service makes on its behalf (`chiso_shared.http`, the gateway's upstreams) and every job and
  outbox row it writes carry it on: a caller that traces sees the whole journey under its own
  trace id even through a service that does not export.
- on: a `TracerProvider` of the app's own (never the process-wide one, which can be set only
  once: tests and `chiso up` run several apps in one process), a server span per request from
  OpenTelemetry's FastAPI instrumentation, client spans from its httpx and aiohttp ones, and a
  batch exporter to `<OTLP_ENDPOINT>/v1/traces` (OTLP over HTTP/protobuf), flushed when the app
  stops.

The probes (`/healthz`, `/readyz`, `/metrics`) are never traced, nor are the calls a readiness
check makes: a probe every few seconds would bury the traces people look for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import Field
from pydantic_settings import BaseSettings
from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    # The SDK, the exporter and the instrumentations are imported only by an app that exports:
    # every service (and `chiso extract`) imports this module, most of them to pass a context on.
    import httpx
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
TRACES_PATH = "/v1/traces"
PROBE_PATHS = ("/healthz", "/readyz", "/metrics")
REQUEST_ID_ATTRIBUTE = "chiso.request_id"
# The W3C header alone, for what is stored: a job's or an outbox row's context is a trace's,
# not the caller's baggage.
_W3C = TraceContextTextMapPropagator()
# The instrumentations would otherwise record HTTP metrics into the process-wide meter
# provider; chiso's metrics are Prometheus' (`chiso_shared.metrics`).
_NO_METRICS = NoOpMeterProvider()


class TracingSettings(BaseSettings):
    """The tracing settings every service has (its env prefix: `CHISO_<SERVICE>_`)."""

    otlp_endpoint: str = Field(
        default="",
        description="Base URL of an OTLP/HTTP receiver (an OpenTelemetry Collector, e.g. "
        "`http://otel-collector.monitoring:4318`); spans go to `<it>/v1/traces` as protobuf. "
        "Empty (the default): no spans are exported, but an incoming W3C `traceparent` is "
        "still passed on.",
    )
    otlp_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Seconds one export to the receiver may take."
    )
    trace_sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces recorded when exporting; a request that comes with "
        "a `traceparent` follows its caller's decision.",
    )


@dataclass(frozen=True)
class TraceContext:
    """A W3C trace context as stored with a job or an outbox row (both None: no trace)."""

    traceparent: str | None = None
    tracestate: str | None = None

    def as_context(self) -> Context:
        """An OpenTelemetry context whose parent span is this one; empty when there is none.

        Built on an empty context, not the current one: a worker's span takes its parent from
        the row it works on, never from whatever ran before it in the same task."""
        if self.traceparent is None:
            return Context()
        carrier = {TRACEPARENT: self.traceparent}
        if self.tracestate:
            carrier[TRACESTATE] = self.tracestate
        return _W3C.extract(carrier, context=Context())


def current_trace_context() -> TraceContext:
    """The current span's W3C context, to store with work done later on its behalf."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return TraceContext(carrier.get(TRACEPARENT), carrier.get(TRACESTATE) or None)


def inject_trace_context(headers: Any) -> None:
    """Add the current trace context to outgoing `headers` (a mutable mapping); nothing when
    there is none. Every call to another service does it, whether this one exports or not."""
    # Most calls are made outside any trace (export off, no caller's traceparent): the check
    # costs a fraction of what the propagators' own (which find nothing) would.
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(headers)


def mark_request_id(request_id: str) -> None:
    """Record the request id on the current server span, when one is being recorded."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


class _ContinueIncomingTrace:
    """Export off: the incoming trace context becomes the current one for the request.

    The only cost on a request without a `traceparent` is one pass over its header names."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier: dict[str, str] | None = None
        for key, value in scope["headers"]:
            if key == b"traceparent" or key == b"tracestate":
                carrier = carrier or {}
                carrier[key.decode("latin-1")] = bytes(value).decode("latin-1")
        if carrier is None or TRACEPARENT not in carrier:
            await self.app(scope, receive, send)
            return
        token = otel_context.attach(propagate.extract(carrier))
        await self.app(scope, receive, send)
        # Detached on success only, as the request id is reset (`chiso_shared.request_id`): the
        # 500 Starlette builds outside this middleware, and the server's log line about it,
        # come later in this request's own task and still belong to the caller's trace.
        otel_context.detach(token)


class _QuietProbes:
    """Export on: a probe's own calls (a readiness check's call to an upstream) make no span;
    the probe's server span is already left out (`excluded_urls`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in PROBE_PATHS:
            from opentelemetry.instrumentation.utils import suppress_instrumentation

            with suppress_instrumentation():
                await self.app(scope, receive, send)
            return
        await self.app(scope, receive, send)


def traces_url(endpoint: str) -> str:
    """`OTLP_ENDPOINT` as the traces URL: the base URL with `/v1/traces`, unless given."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


class Tracing:
    """One app's tracing: its tracer, and (export on) its provider and exporter."""

    def __init__(
        self, service: str, version: str = "", settings: TracingSettings | None = None
    ) -> None:
        """No settings: off (no spans; contexts passed on)."""
        self.settings = settings
        self.provider: TracerProvider | None = None
        self._processor: BatchSpanProcessor | None = None
        if settings is not None and settings.otlp_endpoint:
            from opentelemetry.sdk.resources import (
                SERVICE_NAME,
                SERVICE_NAMESPACE,
                SERVICE_VERSION,
                Resource,
            )
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

            self.provider = TracerProvider(
                sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
                # OTEL_RESOURCE_ATTRIBUTES (e.g. the pod's name) is merged in by `create`.
                resource=Resource.create(
                    {SERVICE_NAME: service, SERVICE_NAMESPACE: "chiso", SERVICE_VERSION: version}
                ),
                shutdown_on_exit=False,  # the app's lifespan shuts it down, flushing spans
            )
        self.tracer: trace.Tracer = (
            self.provider.get_tracer(f"chiso.{service}", version)
            if self.provider is not None
            else trace.NoOpTracer()
        )

    @property
    def exporting(self) -> bool:
        return self.provider is not None

    def instrument_httpx(self, client: httpx.AsyncClient) -> None:
        """Client spans for `client`'s calls (export on; off, `chiso_shared.http` passes the
        context on by itself)."""
        if self.provider is not None:
            from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

            HTTPXClientInstrumentor.instrument_client(
                client, tracer_provider=self.provider, meter_provider=_NO_METRICS
            )

    def start(self) -> None:
        """Start exporting (the exporter's thread starts here, not when the app is made)."""
        if self.provider is None or self.settings is None or self._processor is not None:
            return
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        exporter = OTLPSpanExporter(
            endpoint=traces_url(self.settings.otlp_endpoint),
            timeout=self.settings.otlp_timeout_seconds,
        )
        self._processor = BatchSpanProcessor(exporter)
        self.provider.add_span_processor(self._processor)

    async def stop(self) -> None:
        """Export what is left and stop the exporter (in a thread: it blocks, up to the
        export timeout)."""
        processor, self._processor = self._processor, None
        if processor is not None:
            await asyncio.to_thread(processor.shutdown)

    @contextmanager
    def span(
        self, name: str, parent: TraceContext, attributes: Mapping[str, str | int] | None = None
    ) -> Iterator[trace.Span]:
        """A span of work done later for a request (a job, an outbox row), whose parent is the
        context stored with it. With export off the span records nothing, but the stored
        context is current inside it, so what it writes and sends carries it on."""
        with self.tracer.start_as_current_span(
            name, context=parent.as_context(), attributes=dict(attributes or {})
        ) as span:
            yield span


def install_tracing(app: FastAPI, settings: TracingSettings, service: str) -> Tracing:
    """Trace `app`: call after its other middleware, so the trace context is current in all
    of them. Its lifespan starts and stops the exporter."""
    tracing = Tracing(service, app.version, settings)
    if tracing.provider is None:
        app.add_middleware(_ContinueIncomingTrace)
    else:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        app.add_middleware(_QuietProbes)
        # Outside every middleware, whatever the order they were added in.
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=tracing.provider,
            meter_provider=_NO_METRICS,
            excluded_urls=",".join(f"{path}$" for path in PROBE_PATHS),
            exclude_spans=["receive", "send"],  # a span per ASGI message is noise here
        )
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(lifespan_app: FastAPI) -> AsyncIterator[Any]:
        tracing.start()
        try:
            async with inner(lifespan_app) as state:
                yield state
        finally:
            await tracing.stop()

    app.router.lifespan_context = lifespan
    return tracing
