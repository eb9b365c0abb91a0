"""DHIS2's answer envelope (WebMessage) and its data import summary (ImportSummary), as DHIS2
2.38+ sends them from `/api/dataValueSets`: 200 when every value was imported, 409 with status
WARNING when some were rejected (their conflicts listed), 409 with status ERROR when the whole
set was; other errors are WebMessages too (400 for a body that is not a data value set)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from chiso_shared.errors import (
    PROBLEM_MEDIA_TYPE,
    ChisoError,
    FieldError,
    Forbidden,
    Unauthorized,
)

ImportStatus = Literal["SUCCESS", "WARNING", "ERROR"]


class Dhis2ImportCount(BaseModel):
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0


class Dhis2ImportConflict(BaseModel):
    """One reason values were rejected, and the positions (in `dataValues`) of those it hit."""

    object: str = Field(description="The offending identifier or value.", examples=["99"])
    objects: dict[str, str] = Field(default_factory=dict, examples=[{"orgUnit": "99"}])
    value: str = Field(
        description="What is wrong, in English then Vietnamese.",
        examples=[
            "Organisation unit not found or not accessible: `99`. / "
            "Không tìm thấy đơn vị tổ chức: `99`."
        ],
    )
    errorCode: str = Field(examples=["E7612"])
    property: str = Field(examples=["orgUnit"])
    indexes: list[int] = Field(examples=[[2]])


class Dhis2ImportOptions(BaseModel):
    dryRun: bool
    idSchemes: dict[str, str] = Field(default_factory=lambda: {"idScheme": "CODE"})
    importStrategy: Literal["CREATE_AND_UPDATE"] = "CREATE_AND_UPDATE"


class Dhis2ImportSummary(BaseModel):
    responseType: Literal["ImportSummary"] = "ImportSummary"
    status: ImportStatus
    importOptions: Dhis2ImportOptions
    description: str
    importCount: Dhis2ImportCount
    conflicts: list[Dhis2ImportConflict] = Field(default_factory=list)
    rejectedIndexes: list[int] = Field(default_factory=list)
    dataSetComplete: str = Field(
        default="false", description="The set's `completeDate`, or `false` when it gave none."
    )
    revision: int | None = Field(
        default=None,
        description="chiso's data revision after this import; absent from a dry run, which "
        "creates none.",
    )


class WebMessage(BaseModel):
    httpStatus: str = Field(examples=["OK"])
    httpStatusCode: int = Field(examples=[200])
    status: Literal["OK", "WARNING", "ERROR"]
    message: str
    devMessage: str | None = Field(
        default=None, description="chiso's machine-readable error code.", examples=[None]
    )
    errors: list[FieldError] | None = Field(
        default=None, description="For a malformed request: where (chiso's own addition)."
    )
    response: Dhis2ImportSummary | None = None


_MESSAGES: dict[ImportStatus, tuple[int, str]] = {
    "SUCCESS": (200, "Import was successful. / Nhập dữ liệu thành công."),
    "WARNING": (
        409,
        "One more conflicts encountered, please check import summary. / "
        "Có giá trị bị từ chối, xem tóm tắt nhập dữ liệu.",
    ),
    "ERROR": (
        409,
        "An error occurred, please check import summary. / "
        "Có lỗi, không giá trị nào được nhập; xem tóm tắt nhập dữ liệu.",
    ),
}


def import_message(summary: Dhis2ImportSummary) -> WebMessage:
    code, message = _MESSAGES[summary.status]
    return WebMessage(
        httpStatus=HTTPStatus(code).phrase,
        httpStatusCode=code,
        status="OK" if summary.status == "SUCCESS" else summary.status,
        message=message,
        response=summary,
    )


def respond(message: WebMessage, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        message.model_dump(mode="json", exclude_none=True),
        status_code=message.httpStatusCode,
        headers=headers,
    )


def error_message(
    status: int, message: str, code: str, errors: list[FieldError] | None = None
) -> WebMessage:
    return WebMessage(
        httpStatus=HTTPStatus(status).phrase,
        httpStatusCode=status,
        status="ERROR",
        message=message,
        devMessage=code,
        errors=errors or None,
    )


def _validation_message(exc: RequestValidationError) -> WebMessage:
    errors = [
        FieldError(
            field=".".join(str(part) for part in err.get("loc", ())),
            message=str(err.get("msg", "")),
        )
        for err in exc.errors()
    ]
    fields = ", ".join(error.field for error in errors[:5])
    # DHIS2 answers a body it cannot read as a data value set with 400; a bad query
    # parameter keeps chiso's 422 (the status every chiso read answers it with).
    in_body = any(error.field.startswith("body") for error in errors)
    return error_message(
        400 if in_body else 422,
        f"The request is not valid: {fields}. / Yêu cầu không hợp lệ: {fields}.",
        "indicators.dhis2_bad_request" if in_body else "indicators.invalid",
        errors,
    )


class Dhis2Route(APIRoute):
    """A route whose errors are WebMessages, as a DHIS2 client reads them. chiso's own
    service-token refusals (401, 403) stay problem details: they answer the gateway, not a
    DHIS2 client; so do the refusals of middleware that run before any route (a NUL
    character, a body over MAX_REQUEST_BYTES)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return respond(_validation_message(exc))
            except (Unauthorized, Forbidden):
                raise
            except StarletteHTTPException as exc:
                # FastAPI's own refusals, such as a body that is not UTF-8 (400).
                detail = f"{exc.detail}. / Yêu cầu không đọc được."
                message = error_message(exc.status_code, detail, "indicators.dhis2_bad_request")
                return respond(message, dict(exc.headers or {}))
            except ChisoError as exc:
                code = exc.code or "indicators.dhis2_error"
                message = error_message(exc.status_code, exc.detail, code, exc.errors)
                return respond(message, exc.headers)

        return guarded


def web_message_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers in the WebMessage shape."""
    examples = {
        400: error_message(
            400,
            "The request is not valid: body.dataValues. / Yêu cầu không hợp lệ: body.dataValues.",
            "indicators.dhis2_bad_request",
            [FieldError(field="body.dataValues", message="Field required")],
        ),
        404: error_message(
            404,
            "No such object. / Không có đối tượng này.",
            "indicators.dhis2_not_found",
        ),
        413: error_message(
            413,
            "The query matches more than 100000 values; narrow it. / "
            "Truy vấn khớp hơn 100000 giá trị; hãy thu hẹp.",
            "indicators.dhis2_too_large",
        ),
        422: error_message(
            422,
            "'2023W5' is not a DHIS2 period such as 2023, 2023Q1 or 202311. / "
            "'2023W5' không phải kỳ DHIS2.",
            "indicators.bad_period",
            [FieldError(field="query.period.0", message="not a period")],
        ),
    }
    return {
        status: {
            "model": WebMessage,
            "description": HTTPStatus(status).phrase,
            "content": {
                "application/json": {
                    "example": examples[status].model_dump(mode="json", exclude_none=True)
                },
                # A 400 may also be the NUL guard's, which answers before any route.
                **({PROBLEM_MEDIA_TYPE: {}} if status == 400 else {}),
            },
        }
        for status in statuses
    }
