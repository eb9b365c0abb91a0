"""SDMX 2.1 REST routes under /sdmx/2.1: structures and data, negotiated by Accept or `format`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from chiso_indicators.deps import SessionDep, SettingsDep
from chiso_indicators.sdmx import data as sdmx_data
from chiso_indicators.sdmx import json_structure, negotiation, xml
from chiso_indicators.sdmx.availability import COMPONENTS, Mode, available
from chiso_indicators.sdmx.model import (
    AGENCY,
    CONCEPTS,
    DSD,
    FLOW,
    VERSION,
    Availability,
    codelists,
)
from chiso_indicators.sdmx.negotiation import Offer
from chiso_shared.errors import NotFound, problem_responses
from chiso_shared.languages import Language, preferred_language
from chiso_shared.responses import conditional
from chiso_shared.times import UtcDatetime

router = APIRouter(prefix="/sdmx/2.1", tags=["sdmx"])

STRUCTURE_XML = "application/vnd.sdmx.structure+xml;version=2.1"
STRUCTURE_JSON = "application/vnd.sdmx.structure+json;version=2.0.0"
_XML = (Offer(STRUCTURE_XML, frozenset({"2.1"})),)
_JSON = (Offer(STRUCTURE_JSON, frozenset({"2.0.0", "2.0"})),)
# Structures (and availability, a structure message): SDMX-ML 2.1 or SDMX-JSON 2.0.0.
STRUCTURE_OFFERS = {
    "application/vnd.sdmx.structure+xml": _XML,
    "application/xml": _XML,
    "text/xml": _XML,
    "*/*": _XML,
    "application/*": _XML,
    "application/vnd.sdmx.structure+json": _JSON,
    "application/json": _JSON,
}
Detail = Literal["full", "dataonly", "serieskeysonly", "nodata"]
References = Literal[
    "none", "parents", "parentsandsiblings", "children", "descendants", "all", "datastructure"
]
AvailabilityReferences = Literal[
    "none", "all", "datastructure", "codelist", "conceptscheme", "dataflow"
]
_IDS = {"dataflow": FLOW, "datastructure": DSD, "conceptscheme": CONCEPTS}
NO_STRUCTURE = "No such structure. / Không có cấu trúc này."


def _language(request: Request) -> Language:
    return preferred_language(request.headers.get("accept-language"))


def _structure_response(
    request: Request,
    parts: set[str],
    codelist_ids: list[str] | None,
    availability: Availability | None = None,
) -> Response:
    """A structure message as the Accept header asks: SDMX-ML names each artefact in both
    languages (`xml:lang`); SDMX-JSON has `names` in both and `name` in Accept-Language's."""
    choice = negotiation.negotiate(request.headers.get("accept"), STRUCTURE_OFFERS, "*/*")
    language = _language(request)
    if choice.media_type == STRUCTURE_JSON:
        body = json_structure.structure_message(parts, codelist_ids, language, availability)
        content_language = f"{language}, {'en' if language == 'vi' else 'vi'}"
    else:
        body = xml.structure_message(parts, codelist_ids, availability)
        content_language = "vi, en"
    headers = {"Content-Language": content_language, "Vary": "Accept, Accept-Language"}
    return conditional(request, body, choice.media_type, headers=headers)


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
    if agency not in ("all", AGENCY) or version not in ("all", "latest", VERSION):
        raise NotFound(NO_STRUCTURE, code="indicators.sdmx_no_results")
    wanted: list[str] | None = None
    if resource == "codelist":
        wanted = list(codelists()) if resource_id == "all" else [resource_id]
        if resource_id != "all" and resource_id not in codelists():
            raise NotFound(
                f"No codelist {resource_id!r}. / Không có danh mục mã {resource_id!r}.",
                code="indicators.sdmx_no_results",
            )
    elif resource_id not in ("all", _IDS[resource]):
        raise NotFound(
            f"No {resource} {resource_id!r}. / Không có {resource} {resource_id!r}.",
            code="indicators.sdmx_no_results",
        )
    return _structure_response(request, _structure_parts(resource, references), wanted)


# The OpenAPI examples name the real dataflow and one real series (Thanh Hóa's telephone
# subscriptions); the area code is the catalogue's.
EXAMPLE_AREA = "38"
EXAMPLE_KEY = f"A.{EXAMPLE_AREA}.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL.COUNT"
EXAMPLE_IDS = {
    "dataflow": FLOW,
    "datastructure": DSD,
    "codelist": "CL_AREA",
    "conceptscheme": CONCEPTS,
}


def _structure_examples(parts: set[str], ids: list[str] | None) -> dict[str, Any]:
    """Real messages for the OpenAPI page (the dataflow, or one small codelist)."""
    as_json = json.loads(json_structure.structure_message(parts, ids, "vi"))
    return {
        STRUCTURE_XML: {"example": xml.structure_message(parts, ids).decode()},
        STRUCTURE_JSON: {"example": as_json},
    }


STRUCTURE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A structure message: SDMX-ML 2.1 (names in Vietnamese and English, "
        "`xml:lang`) or SDMX-JSON 2.0.0 (`name` in the Accept-Language, `names` in both), "
        "as the Accept header asks. The example is the dataflow alone.",
        "content": _structure_examples({"dataflow"}, None),
    },
    **problem_responses(404, 406, 422),
}
NEGOTIATION = (
    "Accept: `application/vnd.sdmx.structure+xml;version=2.1` (the default) or "
    "`application/vnd.sdmx.structure+json;version=2.0.0`; anything else is a 406 that lists "
    "both. Accept-Language (`vi`, the default, or `en`) picks SDMX-JSON's `name`."
)


def _add_structure_route(resource: str) -> None:
    async def handler(
        request: Request,
        agency: Annotated[str, Path(max_length=50, examples=[AGENCY])],
        resource_id: str,
        version: Annotated[str, Path(max_length=20, examples=[VERSION, "latest"])],
        references: Annotated[References, Query(examples=["all"])] = "none",
    ) -> Response:
        return _structure(request, resource, agency, resource_id, version, references)

    handler.__name__ = f"sdmx_{resource}"
    # Set here, not in the signature: postponed annotations cannot see `resource`.
    handler.__annotations__["resource_id"] = Annotated[
        str, Path(max_length=100, examples=[EXAMPLE_IDS[resource]])
    ]
    router.add_api_route(
        f"/{resource}/{{agency}}/{{resource_id}}/{{version}}",
        handler,
        methods=["GET"],
        summary=f"SDMX 2.1 {resource}: structure message (SDMX-ML or SDMX-JSON)",
        description=NEGOTIATION,
        responses=STRUCTURE_RESPONSES,
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
            responses=STRUCTURE_RESPONSES,
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
    media_type, labels = sdmx_data.negotiate(request.headers.get("accept"), query)
    language = _language(request)
    body = await sdmx_data.render(
        session,
        flow,
        key,
        query,
        media_type,
        cap=settings.max_export_observations,
        language=language,
        labels=labels,
    )
    headers = {"Content-Language": language, "Vary": "Accept, Accept-Language"}
    return conditional(request, body, media_type, headers=headers)


CSV_EXAMPLE = (
    "DATAFLOW,FREQ: Tần suất,REF_AREA: Địa bàn,INDICATOR: Chỉ tiêu,"
    "MEASURE: Loại số liệu: thực hiện hoặc kế hoạch,TRANSFORMATION: Phép biến đổi,"
    "UNIT_MEASURE: Đơn vị tính,TIME_PERIOD: Thời kỳ,OBS_VALUE,"
    "OBS_STATUS: Trạng thái quan sát,QUALITY_FLAG: Cảnh báo chất lượng số liệu đang mở "
    "(mã quy tắc, cách nhau bởi dấu cách)\n"
    "CHISO:DF_PROVINCE_ICT(1.0): Chỉ tiêu CNTT-TT của các tỉnh Việt Nam,A: Hằng năm,"
    f"{EXAMPLE_AREA}: Thanh Hóa,TELECOM_SUBSCRIBERS_TOTAL: Tổng số thuê bao điện thoại,"
    "ACTUAL: Thực hiện,LEVEL: Mức,COUNT: Số lượng,2023,2980000,E: Giá trị ước tính,\n"
)
DATA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "SDMX data in the negotiated format. SDMX-CSV takes the SDMX-CSV "
        "`labels` parameter in Accept (`id`, `both`: `CODE: Name`, `name`: a names column "
        "after each), names in the Accept-Language (`vi` by default, or `en`); the example "
        "is `labels=both` in Vietnamese.",
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
    labels: Annotated[
        sdmx_data.Labels | None,
        Query(description="SDMX-CSV labels, for clients that cannot set Accept's `labels`."),
    ] = None,
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
        labels=labels,
    )


DataQueryDep = Annotated[sdmx_data.DataQuery, Depends(data_query)]


@router.get(
    "/data/{flow}/{key}",
    summary="SDMX 2.1 data for a dataflow and a dotted series key",
    description="Each observation carries `OBS_STATUS` and, when open data-quality flags "
    "concern it, `QUALITY_FLAG`: their rule codes, space-separated (`GET /v1/quality`). "
    "Accept: SDMX-ML 2.1 generic (default) or structure-specific, SDMX-JSON 1.0.0, "
    "SDMX-CSV 1.0.0 (with `labels=id|both|name`); anything else is a 406 listing them.",
    response_class=Response,
    responses=DATA_RESPONSES,
)
async def get_data(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    query: DataQueryDep,
    flow: Annotated[str, Path(max_length=100, examples=[f"{AGENCY},{FLOW},{VERSION}"])],
    key: Annotated[str, Path(max_length=2000, examples=[EXAMPLE_KEY])],
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
    _check_provider(provider)
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


def _check_provider(provider: str) -> None:
    if provider not in ("all", AGENCY, f"{AGENCY},{AGENCY}"):
        raise NotFound(
            f"No data provider {provider!r}. / Không có nhà cung cấp số liệu {provider!r}.",
            code="indicators.sdmx_no_results",
        )


_AVAILABILITY_PARTS: dict[str, set[str]] = {
    "none": set(),
    "dataflow": {"dataflow"},
    "datastructure": {"datastructure"},
    "codelist": {"codelist"},
    "conceptscheme": {"conceptscheme"},
    "all": {"dataflow", "datastructure", "codelist", "conceptscheme"},
}
# One series' availability (Thanh Hóa's telephone subscriptions, 2021 to 2023), written by
# the writers the route uses.
EXAMPLE_AVAILABILITY = Availability(
    codes={
        "FREQ": ["A"],
        "REF_AREA": [EXAMPLE_AREA],
        "INDICATOR": ["TELECOM_SUBSCRIBERS_TOTAL"],
        "MEASURE": ["ACTUAL"],
        "TRANSFORMATION": ["LEVEL"],
        "UNIT_MEASURE": ["COUNT"],
    },
    start=date(2021, 1, 1),
    end=date(2023, 12, 31),
    series_count=1,
    obs_count=3,
)
AVAILABILITY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An Actual content constraint on the dataflow: per dimension the codes "
        "that have data, the time range they cover, and the series and observation counts "
        "(`sdmx_metrics` annotations). SDMX-ML 2.1 or SDMX-JSON 2.0.0 by Accept.",
        "content": {
            STRUCTURE_XML: {
                "example": xml.structure_message(set(), [], EXAMPLE_AVAILABILITY).decode()
            },
            STRUCTURE_JSON: {
                "example": json.loads(
                    json_structure.structure_message(set(), [], "vi", EXAMPLE_AVAILABILITY)
                )
            },
        },
    },
    **problem_responses(400, 404, 406, 422),
}


@dataclass(frozen=True)
class AvailabilityQuery:
    mode: Mode
    references: str
    start_period: str | None
    end_period: str | None
    updated_after: datetime | None


def availability_query(
    mode: Annotated[
        Mode,
        Query(
            description="`exact`: the codes of the data the key selects; `available`: for "
            "each dimension, the codes still available given the key's other dimensions."
        ),
    ] = "exact",
    references: Annotated[AvailabilityReferences, Query(description="Structures to add.")] = "none",
    start_period: Annotated[str | None, Query(alias="startPeriod", examples=["2022"])] = None,
    end_period: Annotated[str | None, Query(alias="endPeriod", examples=["2023"])] = None,
    updated_after: Annotated[UtcDatetime | None, Query(alias="updatedAfter")] = None,
) -> AvailabilityQuery:
    """The SDMX REST availability query parameters every availability route takes."""
    return AvailabilityQuery(mode, references, start_period, end_period, updated_after)


AvailabilityQueryDep = Annotated[AvailabilityQuery, Depends(availability_query)]


async def _availability(
    request: Request,
    session: SessionDep,
    flow: str,
    key: str,
    provider: str,
    component: str,
    query: AvailabilityQuery,
) -> Response:
    _check_provider(provider)
    found = await available(
        session,
        flow,
        key,
        component=component,
        mode=query.mode,
        start_period=query.start_period,
        end_period=query.end_period,
        updated_after=query.updated_after,
    )
    parts = _AVAILABILITY_PARTS[query.references]
    return _structure_response(request, parts, None if "codelist" in parts else [], found)


@router.get(
    "/availableconstraint/{flow}/{key}/{provider}/{component_id}",
    summary="SDMX 2.1 data availability: the codes of a dataflow that have data",
    description="SDMX REST 1.x `availableconstraint`. `component_id` is a dimension id, "
    f"`TIME_PERIOD` or `all` ({', '.join(COMPONENTS)}). " + NEGOTIATION,
    response_class=Response,
    responses=AVAILABILITY_RESPONSES,
)
async def get_availability(
    request: Request,
    session: SessionDep,
    query: AvailabilityQueryDep,
    flow: Annotated[str, Path(max_length=100, examples=[f"{AGENCY},{FLOW},{VERSION}"])],
    key: Annotated[str, Path(max_length=2000, examples=[f"A.{EXAMPLE_AREA}...."])],
    provider: Annotated[str, Path(max_length=100, examples=["all"])],
    component_id: Annotated[str, Path(max_length=100, examples=["INDICATOR", "all"])],
) -> Response:
    return await _availability(request, session, flow, key, provider, component_id, query)


@router.get(
    "/availableconstraint/{flow}",
    include_in_schema=False,
    response_class=Response,
    responses=AVAILABILITY_RESPONSES,
)
async def get_flow_availability(
    request: Request,
    session: SessionDep,
    query: AvailabilityQueryDep,
    flow: Annotated[str, Path(max_length=100)],
) -> Response:
    return await _availability(request, session, flow, "all", "all", "all", query)


@router.get(
    "/availableconstraint/{flow}/{key}",
    include_in_schema=False,
    response_class=Response,
    responses=AVAILABILITY_RESPONSES,
)
async def get_key_availability(
    request: Request,
    session: SessionDep,
    query: AvailabilityQueryDep,
    flow: Annotated[str, Path(max_length=100)],
    key: Annotated[str, Path(max_length=2000)],
) -> Response:
    return await _availability(request, session, flow, key, "all", "all", query)


@router.get(
    "/availableconstraint/{flow}/{key}/{provider}",
    include_in_schema=False,
    response_class=Response,
    responses=AVAILABILITY_RESPONSES,
)
async def get_provider_availability(
    request: Request,
    session: SessionDep,
    query: AvailabilityQueryDep,
    flow: Annotated[str, Path(max_length=100)],
    key: Annotated[str, Path(max_length=2000)],
    provider: Annotated[str, Path(max_length=100)],
) -> Response:
    # pysdmx writes SDMX REST 1.x availability as flow/key/componentID (no provider): a third
    # part naming a component is one, as no data provider is named like a dimension.
    if provider in COMPONENTS:
        return await _availability(request, session, flow, key, "all", provider, query)
    return await _availability(request, session, flow, key, provider, "all", query)


for _resource in ("dataflow", "datastructure", "codelist", "conceptscheme"):
    _add_structure_route(_resource)
