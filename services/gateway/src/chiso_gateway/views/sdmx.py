"""/sdmx/2.1/...: the indicators service's SDMX REST reads, one documented route per resource,
forwarded (Accept and Accept-Language with them) and cached per representation.

The query parameters are declared so that the OpenAPI page shows them; they are passed on as
they came, and the indicators service checks them (its 400s, 404s, 406s and 422s come back as
they are).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from chiso_gateway.deps import IndicatorsReader
from chiso_gateway.forwarding import forward as _forward
from chiso_shared.errors import problem_responses

router = APIRouter(prefix="/sdmx/2.1", tags=["sdmx"])

# The one dataflow the indicators service serves, and one real series of it (Thanh Hóa's
# telephone subscriptions; the area code as the catalogue has it).
AGENCY, FLOW, DSD, CONCEPTS, VERSION = (
    "CHISO",
    "DF_PROVINCE_ICT",
    "DSD_PROVINCE_ICT",
    "CS_PROVINCE_ICT",
    "1.0",
)
FLOW_REF = f"{AGENCY},{FLOW},{VERSION}"
EXAMPLE_AREA = "38"
EXAMPLE_KEY = f"A.{EXAMPLE_AREA}.TELECOM_SUBSCRIBERS_TOTAL.ACTUAL.LEVEL.COUNT"

STRUCTURE_XML = "application/vnd.sdmx.structure+xml;version=2.1"
STRUCTURE_JSON = "application/vnd.sdmx.structure+json;version=2.0.0"
DATA_MEDIA_TYPES = (
    "application/vnd.sdmx.genericdata+xml;version=2.1",
    "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
    "application/vnd.sdmx.data+json;version=1.0.0",
    "application/vnd.sdmx.data+csv;version=1.0.0",
    "application/vnd.sdmx.data+csv;version=2.0.0",
)
NEGOTIATION = (
    "Forwarded to the indicators service with Accept and Accept-Language; each "
    "representation is cached on its own. An Accept it cannot serve is a 406 whose `errors` "
    "list the media types it can."
)
# 400, 404, 406 and 422: the indicators service's answers (a bad key or period, nothing
# found, an Accept it cannot serve, a bad parameter), passed on.
ERRORS = problem_responses(400, 401, 403, 404, 406, 422, 429, 502, 504)
STRUCTURE_XML_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
    'xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure" '
    'xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">'
    "<mes:Header>...</mes:Header><mes:Structures><str:Dataflows>"
    f'<str:Dataflow id="{FLOW}" agencyID="{AGENCY}" version="{VERSION}" isFinal="false">'
    '<com:Name xml:lang="vi">Chỉ tiêu CNTT-TT của các tỉnh Việt Nam</com:Name>'
    '<com:Name xml:lang="en">ICT indicators of Vietnamese provinces</com:Name>'
    f'<str:Structure><Ref id="{DSD}" version="{VERSION}" agencyID="{AGENCY}" '
    'package="datastructure" class="DataStructure"/></str:Structure></str:Dataflow>'
    "</str:Dataflows></mes:Structures></mes:Structure>"
)
STRUCTURE_JSON_EXAMPLE: dict[str, Any] = {
    "meta": {
        "id": "STRUCTURE",
        "test": False,
        "prepared": "2026-01-01T00:00:00Z",
        "contentLanguages": ["vi", "en"],
        "sender": {"id": AGENCY},
    },
    "data": {
        "dataflows": [
            {
                "agencyID": AGENCY,
                "id": FLOW,
                "name": "Chỉ tiêu CNTT-TT của các tỉnh Việt Nam",
                "names": {
                    "vi": "Chỉ tiêu CNTT-TT của các tỉnh Việt Nam",
                    "en": "ICT indicators of Vietnamese provinces",
                },
                "version": VERSION,
                "structure": "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure="
                f"{AGENCY}:{DSD}({VERSION})",
            }
        ]
    },
}
STRUCTURE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A structure message: SDMX-ML 2.1 (names in Vietnamese and English, "
        "`xml:lang`) by default, or SDMX-JSON 2.0.0 for "
        f"`Accept: {STRUCTURE_JSON}` (`name` in the Accept-Language, `names` in both).",
        "content": {
            STRUCTURE_XML: {"example": STRUCTURE_XML_EXAMPLE},
            STRUCTURE_JSON: {"example": STRUCTURE_JSON_EXAMPLE},
        },
    },
    **ERRORS,
}
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
        "description": "SDMX data in the negotiated format: SDMX-ML 2.1 generic (default) "
        "or structure-specific, SDMX-JSON 1.0.0, SDMX-CSV 1.0.0 or 2.0.0. SDMX-CSV takes "
        "`labels=id|both|name` in Accept, names in the Accept-Language (`vi` by default); "
        "the example is `labels=both` in Vietnamese.",
        "content": {
            media: ({"example": CSV_EXAMPLE} if media.endswith("csv;version=1.0.0") else {})
            for media in DATA_MEDIA_TYPES
        },
    },
    413: problem_responses(413)[413],  # over the indicators service's export cap
    **ERRORS,
}
AVAILABILITY_EXAMPLE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<mes:Structure xmlns:mes="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message" '
    'xmlns:str="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure" '
    'xmlns:com="http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common">'
    "<mes:Header>...</mes:Header><mes:Structures><str:Constraints>"
    '<str:ContentConstraint id="CC_DF_PROVINCE_ICT_AVAILABILITY" agencyID="CHISO" '
    'version="1.0" isFinal="false" type="Actual">'
    '<com:Annotations><com:Annotation id="series_count"><com:AnnotationTitle>1'
    "</com:AnnotationTitle><com:AnnotationType>sdmx_metrics</com:AnnotationType>"
    '</com:Annotation><com:Annotation id="obs_count"><com:AnnotationTitle>3'
    "</com:AnnotationTitle><com:AnnotationType>sdmx_metrics</com:AnnotationType>"
    "</com:Annotation></com:Annotations>"
    '<com:Name xml:lang="vi">Số liệu hiện có</com:Name>'
    '<com:Name xml:lang="en">Data availability</com:Name>'
    '<str:ConstraintAttachment><str:Dataflow><Ref id="DF_PROVINCE_ICT" version="1.0" '
    'agencyID="CHISO" package="datastructure" class="Dataflow"/></str:Dataflow>'
    '</str:ConstraintAttachment><str:CubeRegion include="true">'
    '<com:KeyValue id="INDICATOR"><com:Value>TELECOM_SUBSCRIBERS_TOTAL</com:Value>'
    "</com:KeyValue></str:CubeRegion></str:ContentConstraint>"
    "</str:Constraints></mes:Structures></mes:Structure>"
)
AVAILABILITY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An Actual content constraint on the dataflow: per dimension the codes "
        "that have data, the time range they cover, the series and observation counts "
        "(`sdmx_metrics` annotations); SDMX-ML 2.1 or SDMX-JSON 2.0.0 by Accept. The "
        "example asks for the INDICATOR component only.",
        "content": {STRUCTURE_XML: {"example": AVAILABILITY_EXAMPLE}, STRUCTURE_JSON: {}},
    },
    **ERRORS,
}

References = Literal[
    "none", "parents", "parentsandsiblings", "children", "descendants", "all", "datastructure"
]
Agency = Annotated[str, Path(max_length=50, examples=[AGENCY])]
Version = Annotated[str, Path(max_length=20, examples=[VERSION, "latest"])]
Flow = Annotated[str, Path(max_length=100, examples=[FLOW_REF])]


# The query parameters of each resource, declared for the OpenAPI page (and checked here); the
# request's query string is forwarded as it came, other parameters included.
class StructureParameters(BaseModel):
    references: References = Field("none", description="Structures to add.")


class DataParameters(BaseModel):
    start_period: str | None = Field(None, alias="startPeriod", examples=["2022"])
    end_period: str | None = Field(None, alias="endPeriod", examples=["2023"])
    updated_after: str | None = Field(
        None, alias="updatedAfter", description="An ISO 8601 date-time, with its offset."
    )
    last_n: int | None = Field(None, alias="lastNObservations", ge=1, le=10_000)
    dimension_at_observation: Literal["TIME_PERIOD", "AllDimensions"] = Field(
        "TIME_PERIOD", alias="dimensionAtObservation"
    )
    detail: Literal["full", "dataonly", "serieskeysonly", "nodata"] = "full"
    format: Literal["genericdata", "structurespecificdata", "jsondata", "csv"] | None = Field(
        None, description="Overrides Accept."
    )
    labels: Literal["id", "both", "name"] | None = Field(
        None, description="SDMX-CSV labels, for clients that cannot set Accept's `labels`."
    )


class AvailabilityParameters(BaseModel):
    mode: Literal["exact", "available"] = Field(
        "exact",
        description="`exact`: the codes of the data the key selects; `available`: for each "
        "dimension, the codes still available given the key's other dimensions.",
    )
    references: Literal["none", "all", "datastructure", "codelist", "conceptscheme", "dataflow"] = (
        Field("none", description="Structures to add.")
    )
    start_period: str | None = Field(None, alias="startPeriod", examples=["2022"])
    end_period: str | None = Field(None, alias="endPeriod", examples=["2023"])
    updated_after: str | None = Field(
        None, alias="updatedAfter", description="An ISO 8601 date-time, with its offset."
    )


StructureParametersQuery = Annotated[StructureParameters, Query()]


async def _sdmx(request: Request, reads: IndicatorsReader, *segments: str) -> Response:
    return await _forward("sdmx", "/".join(("2.1", *segments)), request, reads)


def _add_structure_route(resource: str, example_id: str, what: str) -> None:
    async def handler(
        request: Request,
        reads: IndicatorsReader,
        agency: Agency,
        resource_id: str,
        version: Version,
        parameters: StructureParametersQuery,  # noqa: ARG001 - see `StructureParameters`
    ) -> Response:
        return await _sdmx(request, reads, resource, agency, resource_id, version)

    handler.__name__ = f"sdmx_{resource}"
    # Set here, not in the signature: postponed annotations cannot see `example_id`.
    handler.__annotations__["resource_id"] = Annotated[
        str, Path(max_length=100, examples=[example_id, "all"])
    ]
    router.add_api_route(
        f"/{resource}/{{agency}}/{{resource_id}}/{{version}}",
        handler,
        methods=["GET"],
        summary=f"SDMX {resource}: {what}",
        description=NEGOTIATION,
        responses=STRUCTURE_RESPONSES,
        response_class=Response,
    )


_add_structure_route("dataflow", FLOW, "the dataflow (with `references=all`, everything)")
_add_structure_route("datastructure", DSD, "the data structure definition")
_add_structure_route("codelist", "CL_AREA", "code lists (areas, indicators, units...)")
_add_structure_route("conceptscheme", CONCEPTS, "the concepts")


@router.get(
    "/data/{flow}/{key}",
    summary="SDMX data for the dataflow and a dotted series key",
    description="Each observation carries `OBS_STATUS` and, when open data-quality flags "
    "concern it, `QUALITY_FLAG`. " + NEGOTIATION,
    response_class=Response,
    responses=DATA_RESPONSES,
)
async def sdmx_data(
    request: Request,
    reads: IndicatorsReader,
    flow: Flow,
    key: Annotated[str, Path(max_length=2000, examples=[EXAMPLE_KEY, "all"])],
    parameters: Annotated[DataParameters, Query()],  # noqa: ARG001 - see `DataParameters`
) -> Response:
    return await _sdmx(request, reads, "data", flow, key)


@router.get(
    "/availableconstraint/{flow}/{key}/{provider}/{component_id}",
    summary="SDMX data availability: the codes of the dataflow that have data",
    description="SDMX REST 1.x `availableconstraint`: `component_id` is a dimension id, "
    "`TIME_PERIOD` or `all`. " + NEGOTIATION,
    response_class=Response,
    responses=AVAILABILITY_RESPONSES,
)
async def sdmx_availability(
    request: Request,
    reads: IndicatorsReader,
    flow: Flow,
    key: Annotated[str, Path(max_length=2000, examples=[f"A.{EXAMPLE_AREA}....", "all"])],
    provider: Annotated[str, Path(max_length=100, examples=["all"])],
    component_id: Annotated[str, Path(max_length=100, examples=["INDICATOR", "all"])],
    parameters: Annotated[AvailabilityParameters, Query()],  # noqa: ARG001 - as DataParameters
) -> Response:
    return await _sdmx(request, reads, "availableconstraint", flow, key, provider, component_id)


# The SDMX REST short forms the documented routes stand for (sdmx1 and pysdmx write some of
# them: `/availableconstraint/{flow}/{key}`), forwarded alike but not listed again.
SHORT_FORMS = (
    *(
        f"/{resource}{tail}"
        for resource in ("dataflow", "datastructure", "codelist", "conceptscheme")
        for tail in ("", "/{agency}", "/{agency}/{resource_id}")
    ),
    "/data/{flow}",
    "/data/{flow}/{key}/{provider}",
    "/availableconstraint/{flow}",
    "/availableconstraint/{flow}/{key}",
    "/availableconstraint/{flow}/{key}/{provider}",
)


def _add_short_form(template: str) -> None:
    resource, *names = (part.strip("{}") for part in template.strip("/").split("/"))

    async def short_form(request: Request, reads: IndicatorsReader) -> Response:
        values = (str(request.path_params[name]) for name in names)
        return await _sdmx(request, reads, resource, *values)

    short_form.__name__ = "sdmx_" + "_".join([resource, *names])
    router.add_api_route(
        template,
        short_form,
        methods=["GET"],
        summary=f"SDMX {resource}, short form",
        include_in_schema=False,
        response_class=Response,
    )


for _template in SHORT_FORMS:
    _add_short_form(_template)
