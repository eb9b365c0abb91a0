"""The error envelope every chiso service answers with (RFC 9457 problem details).

    ChisoError                      base: status 500, code `<service>.internal`
    ├── BadRequest                  400
    ├── Unauthorized                401 (carries WWW-Authenticate)
    ├── Forbidden                   403
    ├── NotFound                    404
    ├── NotAcceptable               406 (no representation the Accept header allows)
    ├── Conflict                    409
    ├── PayloadTooLarge             413
    ├── UnsupportedMediaType        415
    ├── Unprocessable               422
    ├── TooManyRequests             429
    ├── BadGateway                  502
    ├── ServiceUnavailable          503
    └── GatewayTimeout              504

Services raise these (never `HTTPException`); `install_error_handlers` turns them, request
validation errors and unexpected exceptions into `application/problem+json` bodies of the
shape `Problem`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from chiso_shared.request_id import REQUEST_ID_HEADER, current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("chiso.errors")


class FieldError(BaseModel):
    field: str = Field(description="Where the problem is: `query.period`, `body.facts.3.unit`.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a namespaced machine-readable `code`."""

    type: str = Field(examples=["urn:chiso:problem:indicators.not_found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    code: str = Field(examples=["indicators.not_found"])
    detail: str = Field(examples=["No indicator with code 'telecom.foo'."])
    instance: str | None = Field(default=None, examples=["/v1/indicators/telecom.foo"])
    request_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class ChisoError(Exception):
    status_code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    default_code: ClassVar[str] = "internal"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.errors = list(errors)
        self.headers = dict(headers or {})


class BadRequest(ChisoError):
    status_code = 400
    title = "Bad request"
    default_code = "bad_request"


class Unauthorized(ChisoError):
    status_code = 401
    title = "Unauthorized"
    default_code = "unauthorized"


class Forbidden(ChisoError):
    status_code = 403
    title = "Forbidden"
    default_code = "forbidden"


class NotFound(ChisoError):
    status_code = 404
    title = "Not found"
    default_code = "not_found"


class NotAcceptable(ChisoError):
    status_code = 406
    title = "Not acceptable"
    default_code = "not_acceptable"


class Conflict(ChisoError):
    status_code = 409
    title = "Conflict"
    default_code = "conflict"


class PayloadTooLarge(ChisoError):
    status_code = 413
    title = "Payload too large"
    default_code = "payload_too_large"


class UnsupportedMediaType(ChisoError):
    status_code = 415
    title = "Unsupported media type"
    default_code = "unsupported_media_type"


class Unprocessable(ChisoError):
    status_code = 422
    title = "Unprocessable content"
    default_code = "invalid"


class TooManyRequests(ChisoError):
    status_code = 429
    title = "Too many requests"
    default_code = "rate_limited"


class BadGateway(ChisoError):
    status_code = 502
    title = "Bad gateway"
    default_code = "upstream_error"


class ServiceUnavailable(ChisoError):
    status_code = 503
    title = "Service unavailable"
    default_code = "unavailable"


class GatewayTimeout(ChisoError):
    status_code = 504
    title = "Gateway timeout"
    default_code = "upstream_timeout"


_PROBLEM_CLASSES: tuple[type[ChisoError], ...] = (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    NotAcceptable,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unprocessable,
    TooManyRequests,
    BadGateway,
    ServiceUnavailable,
    GatewayTimeout,
)
_TITLES = {cls.status_code: cls.title for cls in _PROBLEM_CLASSES}
_CODES = {cls.status_code: cls.default_code for cls in _PROBLEM_CLASSES}


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=f"urn:chiso:problem:{code}",
        title=_TITLES.get(status, "Error"),
        status=status,
        code=code,
        detail=detail,
        instance=request.url.path,
        request_id=current_request_id(),
        errors=list(errors),
    )
    return JSONResponse(
        problem.model_dump(mode="json"),
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def error_response(request: Request, exc: ChisoError, namespace: str) -> JSONResponse:
    """The Problem answer for a raised `ChisoError`, its code under `namespace.`."""
    return problem_response(
        request,
        status=exc.status_code,
        code=exc.code or f"{namespace}.{exc.default_code}",
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
    )


def install_error_handlers(app: FastAPI, namespace: str) -> None:
    """Answer every error of `app` as a Problem whose code starts with `namespace.`."""

    async def on_chiso_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ChisoError)
        return error_response(request, exc, namespace)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            FieldError(field=_location(err.get("loc", ())), message=str(err.get("msg", "")))
            for err in exc.errors()
        ]
        fields = ", ".join(err.field for err in errors[:5])
        return problem_response(
            request,
            status=422,
            code=f"{namespace}.invalid",
            detail=f"The request is not valid: {fields}.",
            errors=errors,
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(
            request,
            status=exc.status_code,
            code=f"{namespace}.{code}",
            detail=str(exc.detail),
            headers=exc.headers,
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette runs this outside the request-id middleware (whose header is not added
        # to what is sent from here), so the header is set here, from the id it left set.
        logger.exception("unhandled error", exc_info=exc)
        request_id = current_request_id()
        return problem_response(
            request,
            status=500,
            code=f"{namespace}.internal",
            detail="An unexpected error occurred; it has been logged.",
            headers={REQUEST_ID_HEADER: request_id} if request_id else None,
        )

    app.add_exception_handler(ChisoError, on_chiso_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
    _document_problems_in_openapi(app, namespace)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the problem body for `statuses`."""
    return {
        status: {
            "model": Problem,
            "description": _TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status in statuses
    }


def problem_example(
    status: int, description: str, example: dict[str, Any]
) -> dict[int | str, dict[str, Any]]:
    """An OpenAPI `responses=` entry for a problem of `status` with the route's own example
    (kept by `document_problems` in place of the generic one)."""
    return {
        status: {
            "model": Problem,
            "description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"example": example}},
        }
    }


PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
# The bodies FastAPI documents for errors it does not know are problems: its own 422.
_NOT_PROBLEM_REFS = {"#/components/schemas/HTTPValidationError"}


def _problem_example(namespace: str, status: int) -> dict[str, Any]:
    code = f"{namespace}.{_CODES.get(status, 'http_error')}"
    title = _TITLES.get(status, "Error")
    errors = [{"field": "query.period", "message": "Input should be a valid period"}]
    return Problem(
        type=f"urn:chiso:problem:{code}",
        title=title,
        status=status,
        code=code,
        detail=(
            "The request is not valid: query.period."
            if status == 422
            else f"{title}: what went wrong, for a person to read."
        ),
        instance="/v1/example",
        request_id="5f0c9a52b1d44e3c8f8f2d4a6b7c9e01",
        errors=[FieldError(**error) for error in errors] if status == 422 else [],
    ).model_dump(mode="json")


def _is_problem(content: Mapping[str, Any]) -> bool:
    """Whether a documented error body is a Problem (or FastAPI's stand-in for one)."""
    if not content or PROBLEM_MEDIA_TYPE in content:
        return True
    refs = {body.get("schema", {}).get("$ref") for body in content.values()}
    return refs <= {PROBLEM_SCHEMA_REF} | _NOT_PROBLEM_REFS


def _other_bodies(content: Mapping[str, Any]) -> dict[str, Any]:
    """The bodies of a documented error that are not a Problem: a DHIS2 route answers a
    malformed body with a WebMessage (application/json), and the NUL guard, before any route,
    with a Problem (application/problem+json), under the same status."""
    return {
        media: body
        for media, body in content.items()
        if media != PROBLEM_MEDIA_TYPE
        and body.get("schema")
        and body["schema"].get("$ref") not in {PROBLEM_SCHEMA_REF, *_NOT_PROBLEM_REFS}
    }


def document_problems(spec: dict[str, Any], namespace: str) -> None:
    """Document every error answer of `spec` as what is sent: `application/problem+json`
    with the Problem body. FastAPI puts a response's model under the route's own media type
    and documents 422 with its own HTTPValidationError, neither of which chiso sends. Error
    bodies of another schema (the 503 of /readyz names the failed checks) are left as they
    are, also beside a Problem under the same status (`_other_bodies`). Idempotent."""
    schemas: dict[str, Any] = spec.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, schema in problem.pop("$defs", {}).items():
        schemas.setdefault(name, schema)
    schemas.setdefault("Problem", problem)
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            # Any request may be refused before its route runs: a NUL in its path, query or
            # JSON body (`input_guard`) is a 400 on every operation of every service.
            if isinstance(operation, dict):
                responses.setdefault("400", {"description": _TITLES[400]})
            for status, response in responses.items():
                if not str(status).isdigit() or int(status) < 400:
                    continue
                if not _is_problem(response.get("content", {})):
                    continue
                if status == "422":
                    response["description"] = _TITLES[422]
                # a route's own example of its problem (`problem_example`) is kept
                given = response.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("example")
                response["content"] = {
                    **_other_bodies(response.get("content", {})),
                    PROBLEM_MEDIA_TYPE: {
                        "schema": {"$ref": PROBLEM_SCHEMA_REF},
                        "example": given or _problem_example(namespace, int(status)),
                    },
                }
    text = json.dumps(spec)
    for name in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{name}"' not in text:
            schemas.pop(name, None)


def _document_problems_in_openapi(app: FastAPI, namespace: str) -> None:
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_problems(build(), namespace)  # build() keeps it in app.openapi_schema
        return build()

    app.openapi = openapi  # type: ignore[method-assign]
