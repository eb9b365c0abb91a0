"""The series read served ahead of FastAPI's routing: the gateway's busiest uncached hop.

FastAPI spends about a quarter of a millisecond per request matching routes and solving the
series route's parameters and dependencies, a fifth of what the gateway adds to a direct call
(bench/bench_gateway.py). This middleware answers `GET /v1/indicators/{code}/series` itself
with the route's own pieces: the same query model, access check and answer
(`views.indicators.series_answer`), and errors rendered as the route's handlers render them.
Whatever it does not handle the ordinary way (a query that does not validate, so that FastAPI
words the 422) goes on to FastAPI untouched. It sits inside the audit and request-id
middlewares, so a request it answers is audited and traced like any other. `FAST_READS=false`
turns it off.
"""

from __future__ import annotations

import re

from fastapi import Request
from pydantic import ValidationError
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from chiso_gateway.deps import ReadAccess
from chiso_gateway.views.indicators import SeriesQuery, router, series_answer
from chiso_shared.errors import ChisoError, error_response

SERIES_ROUTE = "/v1/indicators/{code}/series"
_SERIES = re.compile(r"^/v1/indicators/([^/]{1,200})/series$")
_READ = ReadAccess("indicators:read")


class FastSeriesRead:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route: BaseRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _SERIES.match(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            query = SeriesQuery.model_validate(dict(request.query_params.items()))
        except ValidationError:
            await self.app(scope, receive, send)
            return
        scope["route"] = self._route()  # the template the audit row names
        try:
            reads = await _READ(request)
            response = await series_answer(request, reads, match.group(1), query)
        except ChisoError as exc:
            response = error_response(request, exc, "gateway")
        await response(scope, receive, send)

    def _route(self) -> BaseRoute:
        if self.route is None:
            found = (r for r in router.routes if getattr(r, "path", "") == SERIES_ROUTE)
            self.route = next(found)
        return self.route
