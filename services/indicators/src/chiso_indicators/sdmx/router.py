"""SDMX 2.1 REST routes under /sdmx/2.1: structures and data, negotiated by Accept or `format`."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from chiso_indicators.deps import SessionDep, SettingsDep
from chiso_indicators.sdmx import data as sdmx_data
from chiso_indicators.sdmx.model import AGENCY, CONCEPTS, DSD, FLOW, codelists
from chiso_indicators.sdmx.xml import structure_message
from chiso_shared.errors import NotFound, problem_responses
from chiso_shared.responses import conditional
from chiso_shared.times import UtcDatetime

router = APIRouter(prefix="/sdmx/2.1", tags=["sdmx"])

STRUCTURE_TYPE = "application/vnd.sdmx.structure+xml; version=2.1"
Detail = Literal["full", "dataonly", "serieskeysonly", "nodata"]
References = Literal[
    "none", "parents", "parentsandsiblings", "children", "descendants", "all", "datastructure"
]
_IDS = {"dataflow": FLOW, "datastructure": DSD, "conceptscheme": CONCEPTS}


def _structure_parts(resource: str, references: str) -> set[str]:
    wide = references in ("children", "descendants", "all")
    if resource == "dataflow":
        if wide:
            return {"dataflow", "datastructure", "codelist", "conceptscheme"}
        return {"dataflow", "datastructure"} if references == "datastructure" else {"dataflow"}
    if resource == "datastructure":
        parts = {"datastructure"}
        if wide:
            parts |= {"codelist", "conceptscheme"}
        if references in ("parents", "parentsandsiblings", "all"):
            parts.add("dataflow")
        return parts
    if resource == "codelist":
        return {"codelist"} | ({"datastructure", "dataflow"} if references == "all" else set())
    return {"conceptscheme"} | ({"datastructure", "dataflow"} if references == "all" else set())


def _structure(
    request: Request,
    resource: str,
    agency: str,
    resource_id: str,
    version: str,
    references: str,
) -> Response:
    if agency not in ("all", AGENCY) or version not in ("all", "latest", "1.0"):
        raise NotFound("No such structure.", code="indicators.sdmx_no_results")
    wanted: list[str] | None = None
    if resource == "codelist":
        wanted = list(codelists()) if resource_id == "all" else [resource_id]
        if resource_id != "all" and resource_id not in codelists():
            raise NotFound(f"No codelist {resource_id!r}.", code="indicators.sdmx_no_results")
    elif resource_id not in ("all", _IDS[resource]):
        raise NotFound(f"No {resource} {resource_id!r}.", code="indicators.sdmx_no_results")
    body = structure_message(_structure_parts(resource, references), wanted)
    return conditional(request, body, STRUCTURE_TYPE)


def _add_structure_route(resource: str) -> None:
    async def handler(
        request: Request,
        agency: Annotated[str, Path(max_length=50, examples=[AGENCY])],
        resource_id: Annotated[str, Path(max_length=100, examples=[FLOW])],
        version: Annotated[str, Path(max_length=20, examples=["latest"])],
        references: Annotated[References, Query()] = "none",
    ) -> Response:
        return _structure(request, resource, agency, resource_id, version, references)

    handler.__name__ = f"sdmx_{resource}"
    for path in (f"/{resource}/{{agency}}/{{resource_id}}/{{version}}",):
        router.add_api_route(
            path,
            handler,
            methods=["GET"],
            summary=f"SDMX 2.1 {resource} (SDMX-ML structure message)",
            responses={
                200: {"content": {STRUCTURE_TYPE: {"example": STRUCTURE_EXAMPLE}}},
                **problem_responses(404, 422),
            },
            response_class=Response,
        )

    async def short(
        request: Request,
        agency: Annotated[str, Path(max_length=50, examples=[AGENCY])],
        resource_id: Annotated[str, Path(max_length=100, examples=["all"])],
        references: Annotated[References, Query()] = "none",
    ) -> Response:
        return _structure(request, resource, agency, resource_id, "latest", references)

    short.__name__ = f"sdmx_{resource}_latest"
    for path in (
        f"/{resource}",
        f"/{resource}/{{agency}}",
        f"/{resource}/{{agency}}/{{resource_id}}",
    ):
        router.add_api_route(
            path,
            short,
            methods=["GET"],
            summary=f"SDMX 2.1 {resource}, latest version",
            responses={
                200: {"content": {STRUCTURE_TYPE: {"example": STRUCTURE_EXAMPLE}}},
                **problem_responses(404, 422),
            },
            response_class=Response,
            include_in_schema=False,
        )


async def _data(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    flow: str,
    key: str,
    query: sdmx_data.DataQuery,
) -> Response:
    media_type = sdmx_data.negotiate(request.headers.get("accept"), query.format)
    body = await sdmx_data.render(
        session, flow, key, query, media_type, cap=settings.max_export_observations
    )
    return conditional(request, body, media_type)


CSV_EXAMPLE = (
    "DATAFLOW,FREQ,REF_AREA,INDICATOR,MEASURE,TRANSFORMATION,UNIT_MEASURE,TIME_PERIOD,"
    "OBS_VALUE,OBS_STATUS,QUALITY_FLAG\n"
    "CHISO:DF_PROVINCE_ICT(1.0),A,VN-38,TELECOM_SUBSCRIBERS_TOTAL,ACTUAL,LEVEL,COUNT,2022,"
    "2957000,A,\n"
    "CHISO:DF_PROVINCE_ICT(1.0),A,VN-38,TELECOM_SUBSCRIBERS_TOTAL,ACTUAL,LEVEL,COUNT,2023,"
    "2980000,E,change_vs_levels\n"
)
STRUCTURE_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message">'
    "<mes:Header>...</mes:Header><mes:Structures>...</mes:Structures></mes:Structure>"
)
DATA_RESPONSES = {
    200: {
        "description": "SDMX data in the negotiated format (SDMX-CSV shown).",
        "content": {
            media: ({"example": CSV_EXAMPLE} if media == sdmx_data.CSV else {})
            for media in sdmx_data.MEDIA_TYPES
        },
    },
    **problem_responses(400, 404, 406, 413, 422),
}


def data_query(
    start_period: Annotated[str | None, Query(alias="startPeriod", examples=["2022"])] = None,
    end_period: Annotated[str | None, Query(alias="endPeriod", examples=["2023"])] = None,
    updated_after: Annotated[UtcDatetime | None, Query(alias="updatedAfter")] = None,
    last_n: Annotated[int | None, Query(alias="lastNObservations", ge=1, le=10_000)] = None,
    dimension_at_observation: Annotated[
        Literal["TIME_PERIOD", "AllDimensions"], Query(alias="dimensionAtObservation")
    ] = "TIME_PERIOD",
    detail: Annotated[Detail, Query()] = "full",
    format: Annotated[sdmx_data.Format | None, Query(description="Overrides Accept.")] = None,
) -> sdmx_data.DataQuery:
    """The SDMX REST data query parameters every data route takes."""
    return sdmx_data.DataQuery(
        start_period=start_period,
        end_period=end_period,
        updated_after=updated_after,
        last_n=last_n,
        flat=dimension_at_observation == "AllDimensions",
        detail=detail,
        format=format,
    )


DataQueryDep = Annotated[sdmx_data.DataQuery, Depends(data_query)]


@router.get(
    "/data/{flow}/{key}",
    summary="SDMX 2.1 data for a dataflow and a dotted series key",
    description="Each observation carries `OBS_STATUS` and, when open data-quality flags "
    "concern it, `QUALITY_FLAG`: their rule codes, space-separated (`GET /v1/quality`).",
    response_class=Response,
    responses=DATA_RESPONSES,
)
async def get_data(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: DataQueryDep,
    flow: Annotated[str, Path(max_length=100, examples=[FLOW])],
    key: Annotated[
        str, Path(max_length=2000, examples=["A.VN-38.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL."])
    ],
) -> Response:
    return await _data(request, session, settings, flow, key, query)


@router.get(
    "/data/{flow}/{key}/{provider}",
    summary="SDMX 2.1 data, with a data provider reference",
    response_class=Response,
    responses=DATA_RESPONSES,
    include_in_schema=False,
)
async def get_data_with_provider(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: DataQueryDep,
    flow: Annotated[str, Path(max_length=100)],
    key: Annotated[str, Path(max_length=2000)],
    provider: Annotated[str, Path(max_length=100)],
) -> Response:
    if provider not in ("all", AGENCY, f"{AGENCY},{AGENCY}"):
        raise NotFound(f"No data provider {provider!r}.", code="indicators.sdmx_no_results")
    return await _data(request, session, settings, flow, key, query)


@router.get(
    "/data/{flow}",
    summary="SDMX 2.1 data for a whole dataflow",
    response_class=Response,
    responses=DATA_RESPONSES,
    include_in_schema=False,
)
async def get_all_data(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: DataQueryDep,
    flow: Annotated[str, Path(max_length=100)],
) -> Response:
    return await _data(request, session, settings, flow, "all", query)


for _resource in ("dataflow", "datastructure", "codelist", "conceptscheme"):
    _add_structure_route(_resource)
