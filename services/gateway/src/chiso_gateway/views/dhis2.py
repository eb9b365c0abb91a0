"""/dhis2/api/...: the indicators service's DHIS2 reads, one documented route per endpoint it
serves (dataValueSets and the metadata a DHIS2 administrator maps codes with), forwarded and
cached. The indicators service's DHIS2 errors are DHIS2 WebMessages and pass through as they
are; the gateway's own refusals (401, 403, 429, 502, 504) are problem details.

Imports (POST dataValueSets) are not offered here: the gateway has no scope that writes data.
"""

# No `from __future__ import annotations`: each kind's route states its own uid example in
# its annotation, which must be evaluated where the route is made.
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from chiso_gateway.deps import IndicatorsReader
from chiso_gateway.forwarding import forward
from chiso_gateway.upstream import UpstreamError
from chiso_shared.errors import problem_responses

router = APIRouter(prefix="/dhis2/api", tags=["dhis2"])

# The gateway's own refusals; 502 and 504: indicators failed or did not answer.
_GATEWAY_ERRORS = problem_responses(401, 403, 429, 502, 504)


def _web_message(status: int, message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "httpStatus": HTTPStatus(status).phrase,
        "httpStatusCode": status,
        "status": "ERROR",
        "message": message,
        "devMessage": code,
        **extra,
    }


_WEB_MESSAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "WebMessage",
    "description": "DHIS2's answer envelope.",
    "properties": {
        "httpStatus": {"type": "string"},
        "httpStatusCode": {"type": "integer"},
        "status": {"type": "string", "enum": ["OK", "WARNING", "ERROR"]},
        "message": {"type": "string"},
        "devMessage": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["httpStatus", "httpStatusCode", "status", "message"],
}
_UPSTREAM_ERRORS: dict[int, dict[str, Any]] = {
    404: _web_message(
        404,
        "No dataElements object with id 'aaaaaaaaaaa'. / Không có đối tượng dataElements "
        "mã 'aaaaaaaaaaa'.",
        "indicators.dhis2_not_found",
    ),
    413: _web_message(
        413,
        "The query matches more than 100000 values; narrow it.",
        "indicators.dhis2_too_large",
    ),
    422: _web_message(
        422,
        "'2023-13' is not a DHIS2 period such as 2023, 2023Q1 or 202311.",
        "indicators.bad_period",
        errors=[{"field": "query.period.0", "message": "not a period"}],
    ),
}


def _upstream_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The indicators service's WebMessage errors, passed on as they are."""
    return {
        status: {
            "description": f"{_UPSTREAM_ERRORS[status]['httpStatus']} (a DHIS2 WebMessage from "
            "the indicators service)",
            "content": {
                "application/json": {
                    "schema": _WEB_MESSAGE_SCHEMA,
                    "example": _UPSTREAM_ERRORS[status],
                }
            },
        }
        for status in statuses
    }


def _with_own_problem(
    responses: dict[int | str, dict[str, Any]], status: int
) -> dict[int | str, dict[str, Any]]:
    """`responses` where `status` may also be the gateway's own problem (a path it refuses
    before asking indicators, such as a uid past its length)."""
    own = problem_responses(status)[status]["content"]
    responses[status]["content"] = {**responses[status]["content"], **own}
    return responses


async def _pass(rest: str, request: Request, reads: IndicatorsReader) -> Response:
    try:
        return await forward("dhis2", rest, request, reads)
    except UpstreamError as exc:
        if "httpStatusCode" not in exc.body:
            raise
        # A DHIS2 client reads a WebMessage; the indicators service answered one.
        return JSONResponse(exc.body, status_code=exc.status_code)


def _query(name: str, description: str, example: str, *, array: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if array:
        schema = {"type": "array", "items": schema}
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "example": [example] if array else example,
    }


# The query is passed on as it came; documented here, validated by the indicators service.
_EXPORT_PARAMETERS = [
    _query(
        "dataElement",
        "Data element codes (or uids with idScheme=uid).",
        "telecom.subscribers.total",
        array=True,
    ),
    _query("period", "DHIS2 periods: 2023, 2023S1, 2023Q1, 202311, 20231220.", "2023", array=True),
    _query("orgUnit", "Organisation unit codes (or uids).", "38", array=True),
    _query(
        "dataSet",
        "Data sets (code or uid): the values of their period types.",
        "CHISO_YEARLY",
        array=True,
    ),
    _query("children", "With the country as `orgUnit`: every province too.", "true"),
    _query("startDate", "From the year of this date.", "2020-01-01"),
    _query("endDate", "To the year of this date.", "2023-12-31"),
    _query("lastUpdated", "Values recorded after this time.", "2024-01-01T00:00:00Z"),
    _query("idScheme", "`code` (default) or `uid`.", "code"),
    _query("format", "`json` or `csv`.", "json"),
    _query("locale", "Language of the quality flags in `comment`: `en` or `vi`.", "en"),
]
_LIST_PARAMETERS = [
    _query("fields", "DHIS2 field filter (default `id,displayName`).", "id,code,name"),
    _query("filter", "`property:operator:value`, repeatable.", "level:eq:2", array=True),
    _query("paging", "`false`: every object, no pager.", "false"),
    _query("page", "Page number, from 1.", "1"),
    _query("pageSize", "Objects per page (default 50).", "50"),
    _query("locale", "Language of names: `en` or `vi`.", "en"),
]
_ONE_PARAMETERS = [_LIST_PARAMETERS[0], _LIST_PARAMETERS[-1]]

_VALUES_EXAMPLE = {
    "dataValues": [
        {
            "dataElement": "telecom.subscribers.total",
            "period": "2023",
            "orgUnit": "38",
            "categoryOptionCombo": "LEVEL_COUNT",
            "attributeOptionCombo": "ACTUAL",
            "value": "2980000",
            "storedBy": "chiso",
            "lastUpdated": "2024-01-15T08:30:00+00:00",
            "comment": "OBS_STATUS:E",
            "followup": False,
        }
    ]
}
_CSV_EXAMPLE = (
    "dataelement,period,orgunit,catoptcombo,attroptcombo,value,storedby,lastupdated,comment,"
    "followup\ntelecom.subscribers.total,2023,38,LEVEL_COUNT,ACTUAL,2980000,chiso,"
    "2024-01-15T08:30:00+00:00,OBS_STATUS:E,false\n"
)


def _add_export(suffix: str) -> None:
    async def data_value_sets(request: Request, reads: IndicatorsReader) -> Response:
        return await _pass(f"api/dataValueSets{suffix}", request, reads)

    content: dict[str, Any] = {"text/csv": {"example": _CSV_EXAMPLE}}
    if suffix != ".csv":
        content = {"application/json": {"example": _VALUES_EXAMPLE}, **content}
    data_value_sets.__name__ = f"dhis2_data_value_sets{suffix.replace('.', '_')}"
    router.add_api_route(
        f"/dataValueSets{suffix}",
        data_value_sets,
        methods=["GET"],
        summary=f"DHIS2 dataValueSets{suffix}: current values as DHIS2 data values (cached)",
        description="`comment` holds `OBS_STATUS:<code>`, then the messages of the value's "
        "open data-quality flags; `followup` is true when one is an error or a warning. "
        "JSON, or CSV for `.csv` and `format=csv`.",
        response_class=Response,
        responses={200: {"content": content}, **_upstream_errors(413, 422), **_GATEWAY_ERRORS},
        openapi_extra={"parameters": _EXPORT_PARAMETERS},
    )


for _suffix in ("", ".json", ".csv"):
    _add_export(_suffix)


_METADATA: dict[str, tuple[str, dict[str, Any]]] = {
    "dataElements": (
        "Data elements: one per chiso indicator (`code` = the indicator's code)",
        {
            "id": "ZJXcSJZeE1i",
            "code": "telecom.subscribers.total",
            "name": "Telephone subscriptions, total",
            "shortName": "Telephone subscriptions, total",
            "valueType": "NUMBER",
            "aggregationType": "SUM",
        },
    ),
    "organisationUnits": (
        "Organisation units: the country (level 1) and provinces (level 2) of both code "
        "lists; a 2004-list province merged in 2025 has a `closedDate`",
        {
            "id": "rourXAF5MvN",
            "code": "38",
            "name": "Thanh Hoa",
            "level": 2,
            "path": "/Ibzyu2dp15n/rourXAF5MvN",
            "parent": {"id": "Ibzyu2dp15n"},
            "children": [],
            "openingDate": "2004-01-01T00:00:00.000",
        },
    ),
    "categoryCombos": (
        "Category combos: DHIS2's default, transformation and unit, actual or target",
        {"id": "bjDvmb4bfuf", "code": "default", "name": "default"},
    ),
    "categoryOptionCombos": (
        "Category option combos: DHIS2's default, `LEVEL_COUNT`..., `ACTUAL`, `TARGET`",
        {"id": "HllvX50cXC0", "code": "default", "name": "default"},
    ),
    "dataSets": (
        "Data sets: one per period type, with every data element and org unit",
        {"id": "y8Cuw0jiyAR", "code": "CHISO_YEARLY", "name": "chiso indicators, yearly"},
    ),
}


def _lister(rest: str) -> Any:
    async def listing(request: Request, reads: IndicatorsReader) -> Response:
        return await _pass(rest, request, reads)

    return listing


def _add_metadata(kind: str, summary: str, example: dict[str, Any]) -> None:
    async def one(
        request: Request,
        reads: IndicatorsReader,
        uid: Annotated[str, Path(max_length=64, examples=[example["id"]])],
    ) -> Response:
        return await _pass(f"api/{kind}/{uid}", request, reads)

    page = {"pager": {"page": 1, "pageCount": 1, "total": 1, "pageSize": 50}, kind: [example]}
    for suffix in ("", ".json"):
        listing = _lister(f"api/{kind}{suffix}")
        listing.__name__ = f"dhis2_{kind}{suffix.replace('.', '_')}"
        router.add_api_route(
            f"/{kind}{suffix}",
            listing,
            methods=["GET"],
            summary=f"DHIS2 {kind}: {summary} (cached)",
            response_class=Response,
            responses={
                200: {"content": {"application/json": {"example": page}}},
                **_upstream_errors(422),
                **_GATEWAY_ERRORS,
            },
            openapi_extra={"parameters": _LIST_PARAMETERS},
            include_in_schema=not suffix,
        )
    one.__name__ = f"dhis2_{kind}_one"
    router.add_api_route(
        f"/{kind}/{{uid}}",
        one,
        methods=["GET"],
        summary=f"One DHIS2 {kind} object by uid (cached)",
        response_class=Response,
        responses={
            200: {"content": {"application/json": {"example": example}}},
            **_with_own_problem(_upstream_errors(404, 422), 422),
            **_GATEWAY_ERRORS,
        },
        openapi_extra={"parameters": _ONE_PARAMETERS},
    )


for _kind, (_summary, _example) in _METADATA.items():
    _add_metadata(_kind, _summary, _example)
