"""GET /dhis2/api/{dataElements,organisationUnits,categoryCombos,categoryOptionCombos,dataSets}
and each object by uid: DHIS2's metadata lists (`fields`, `filter`, paging) over `metadata`."""

# No `from __future__ import annotations`: each kind's route states its own uid example in
# its annotation, which must be evaluated where the route is made.
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from chiso_indicators.dhis2 import metadata
from chiso_indicators.dhis2.listing import (
    DEFAULT_FIELDS,
    Paging,
    apply_filters,
    page_of,
    parse_fields,
    select,
)
from chiso_indicators.dhis2.webmessage import Dhis2Route, web_message_responses
from chiso_shared.errors import FieldError, NotFound

router = APIRouter(route_class=Dhis2Route)

# --- metadata --------------------------------------------------------------------------------

_LIST_EXAMPLES: dict[metadata.Kind, dict[str, Any]] = {
    "dataElements": {
        "id": metadata.uid("dataElements", "telecom.subscribers.total"),
        "code": "telecom.subscribers.total",
        "name": "Telephone subscriptions, total",
        "shortName": "Telephone subscriptions, total",
        "valueType": "NUMBER",
        "aggregationType": "SUM",
    },
    "organisationUnits": {
        "id": metadata.uid("organisationUnits", "38"),
        "code": "38",
        "name": "Thanh Hoa",
        "level": 2,
        "path": f"/{metadata.uid('organisationUnits', 'VN')}/"
        f"{metadata.uid('organisationUnits', '38')}",
        "parent": {"id": metadata.uid("organisationUnits", "VN")},
        "children": [],
        "openingDate": "2004-01-01T00:00:00.000",
    },
    "categoryCombos": {
        "id": metadata.uid("categoryCombos", metadata.MEASURE_COMBO),
        "code": metadata.MEASURE_COMBO,
        "name": "Actual or target",
        "dataDimensionType": "ATTRIBUTE",
    },
    "categoryOptionCombos": {
        "id": metadata.uid("categoryOptionCombos", "LEVEL_COUNT"),
        "code": "LEVEL_COUNT",
        "name": "Level, count",
        "categoryCombo": {"id": metadata.uid("categoryCombos", metadata.TRANSFORMATION_COMBO)},
    },
    "dataSets": {
        "id": metadata.uid("dataSets", "CHISO_YEARLY"),
        "code": "CHISO_YEARLY",
        "name": "chiso indicators, yearly",
        "periodType": "Yearly",
    },
}
_WHAT = {
    "dataElements": "Data elements: one per chiso indicator (`code` = the indicator's code).",
    "organisationUnits": "Organisation units: the country (level 1) and the provinces (level "
    "2) of both code lists; a 2004-list province merged in 2025 has a `closedDate`, and "
    "`description` gives each code's names through the code lists.",
    "categoryCombos": "Category combos: DHIS2's `default`, chiso's transformation and unit "
    "(the data elements' disaggregation) and actual or target (the attribute combo).",
    "categoryOptionCombos": "Category option combos: DHIS2's `default`, each transformation "
    "and unit (`LEVEL_COUNT`, `CHANGE_PREVIOUS_PERCENT`...), and `ACTUAL`, `TARGET`.",
    "dataSets": "Data sets: one per period type (a DHIS2 data set has one), each with every "
    "data element and organisation unit.",
}
Locale = Literal["en", "vi"]
UidPath = Annotated[str, Path(max_length=64, examples=[_LIST_EXAMPLES["dataElements"]["id"]])]


def _add_metadata_routes(kind: metadata.Kind) -> None:
    async def listing(
        request: Request,
        fields: Annotated[
            str | None,
            Query(
                max_length=2000,
                description="DHIS2 field filter: names, `*`, `:identifiable`, `:nameable`, "
                "`parent[id,name]`. Default `id,displayName`, as DHIS2.",
                examples=["id,code,name"],
            ),
        ] = None,
        filter_: Annotated[
            list[str] | None,
            Query(
                alias="filter",
                description="`property:operator:value` (eq, !eq, in, like, ilike, null, "
                "!null); several filters all apply.",
                examples=["level:eq:2"],
            ),
        ] = None,
        paging: Annotated[bool, Query(description="`false`: every object, no pager.")] = True,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(alias="pageSize", ge=1, le=10_000)] = 50,
        locale: Annotated[Locale, Query(description="The language of names.")] = "en",
    ) -> dict[str, Any]:
        specs = parse_fields(fields or DEFAULT_FIELDS)
        items = apply_filters(metadata.objects(kind, locale), filter_ or [])
        index = metadata.by_id(locale)
        chosen = [select(item, specs, index) for item in items]
        rows, pager = page_of(
            chosen, Paging(paging, page, page_size), request.url.path, request.url.query
        )
        return {"pager": pager, kind: rows} if pager is not None else {kind: rows}

    async def one(
        uid: Annotated[str, Path(max_length=64, examples=[_LIST_EXAMPLES[kind]["id"]])],
        fields: Annotated[str | None, Query(max_length=2000, examples=["id,code,name"])] = None,
        locale: Annotated[Locale, Query()] = "en",
    ) -> dict[str, Any]:
        found = metadata.find(kind, locale, [uid])
        if not found:
            raise NotFound(
                f"No {kind} object with id {uid!r}. / Không có đối tượng {kind} mã {uid!r}.",
                code="indicators.dhis2_not_found",
                errors=[FieldError(field="path.uid", message="no such object")],
            )
        return select(found[0], parse_fields(fields or "*"), metadata.by_id(locale))

    example = _LIST_EXAMPLES[kind]
    for suffix in ("", ".json"):
        listing.__name__ = f"dhis2_{kind}{suffix.replace('.', '_')}"
        router.add_api_route(
            f"/{kind}{suffix}",
            listing,
            methods=["GET"],
            summary=f"DHIS2 {kind} (metadata list)",
            description=_WHAT[kind],
            responses={
                200: {
                    "content": {
                        "application/json": {
                            "example": {
                                "pager": {"page": 1, "pageCount": 1, "total": 1, "pageSize": 50},
                                kind: [example],
                            }
                        }
                    }
                },
                **web_message_responses(422),
            },
            include_in_schema=not suffix,
        )
    one.__name__ = f"dhis2_{kind}_one"
    router.add_api_route(
        f"/{kind}/{{uid}}",
        one,
        methods=["GET"],
        summary=f"One DHIS2 {kind} object by uid",
        responses={
            200: {"content": {"application/json": {"example": example}}},
            **web_message_responses(404, 422),
        },
    )


for _kind in metadata.KINDS:
    _add_metadata_routes(_kind)
