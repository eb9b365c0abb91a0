"""DHIS2-style routes under /dhis2/api: dataValueSets export (JSON, CSV) and import, and the
metadata (dataElements, organisationUnits, categoryCombos, categoryOptionCombos, dataSets) that
maps chiso's codes to DHIS2 uids (`metadata_routes`). Errors are DHIS2 WebMessages
(`webmessage.Dhis2Route`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chiso_indicators.deps import QualityBookDep, SessionDep, SettingsDep
from chiso_indicators.dhis2 import export, metadata
from chiso_indicators.dhis2.importing import DataValueSetIn, import_value_set
from chiso_indicators.dhis2.metadata_routes import router as metadata_router
from chiso_indicators.dhis2.webmessage import (
    Dhis2Route,
    WebMessage,
    import_message,
    respond,
    web_message_responses,
)
from chiso_indicators.metrics import indicators_metrics
from chiso_shared.catalogue import resolve_areas
from chiso_shared.errors import FieldError, Unprocessable, problem_responses
from chiso_shared.periods import Period
from chiso_shared.responses import conditional, conditional_json, csv_bytes
from chiso_shared.times import UtcDatetime

router = APIRouter(prefix="/dhis2/api", tags=["dhis2"], route_class=Dhis2Route)

IdScheme = Literal["code", "CODE", "uid", "UID"]
_UID_KINDS = {
    "dataElement": "dataElements",
    "orgUnit": "organisationUnits",
    "categoryOptionCombo": "categoryOptionCombos",
    "attributeOptionCombo": "categoryOptionCombos",
}


def _as_uids(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The values with DHIS2 uids for chiso's codes (`idScheme=uid`)."""
    return [
        {**value, **{key: metadata.uid(kind, value[key]) for key, kind in _UID_KINDS.items()}}
        for value in values
    ]


def _split(values: list[str] | None) -> list[str]:
    return [part for value in values or [] for part in value.split(",") if part]


def _periods(values: list[str]) -> list[str]:
    periods = []
    for index, value in enumerate(values):
        try:
            period = Period.from_dhis2(value)
        except ValueError:
            raise Unprocessable(
                f"{value!r} is not a DHIS2 period such as 2023, 2023Q1 or 202311.",
                code="indicators.bad_period",
                errors=[FieldError(field=f"query.period.{index}", message="not a period")],
            ) from None
        periods.append(str(period))
    return periods


def _frequencies(data_sets: list[str]) -> frozenset[str]:
    found = set()
    for index, identifier in enumerate(data_sets):
        frequency = metadata.data_set_frequency(identifier)
        if frequency is None:
            raise Unprocessable(
                f"No data set {identifier!r} (see /dhis2/api/dataSets). / "
                f"Không có bộ dữ liệu {identifier!r}.",
                code="indicators.dhis2_unknown_data_set",
                errors=[FieldError(field=f"query.dataSet.{index}", message="no such data set")],
            )
        found.add(frequency)
    return frozenset(found)


def _org_units(identifiers: list[str], children: bool) -> list[str]:
    """Org unit codes to select; none (all) when the country's children are asked for."""
    codes = resolve_areas(metadata.as_code("organisationUnits", i) for i in identifiers)
    return [] if children and metadata.parents() & set(codes) else codes


async def _export(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    data_element: list[str] | None,
    period: list[str] | None,
    org_unit: list[str] | None,
    data_set: list[str] | None,
    children: bool,
    start_date: date | None,
    end_date: date | None,
    last_updated: datetime | None,
    as_csv: bool,
    locale: export.Locale,
    uids: bool,
) -> Response:
    values = await export.data_values(
        session,
        data_elements=[metadata.as_code("dataElements", i) for i in _split(data_element)],
        periods=_periods(_split(period)),
        org_units=_org_units(_split(org_unit), children),
        # Periods are matched by their first year; finer date windows are not needed yet.
        start_period=str(start_date.year) if start_date else None,
        end_period=str(end_date.year) if end_date else None,
        last_updated=last_updated,
        cap=settings.max_export_observations,
        locale=locale,
        frequencies=_frequencies(_split(data_set)),
    )
    if uids:
        values = _as_uids(values)
    if as_csv:
        keys = (
            "dataElement",
            "period",
            "orgUnit",
            "categoryOptionCombo",
            "attributeOptionCombo",
            "value",
            "storedBy",
            "lastUpdated",
            "comment",
            "followup",
        )
        rows = (
            [str(v[key]).lower() if key == "followup" else v[key] for key in keys] for v in values
        )
        return conditional(request, csv_bytes(export.CSV_COLUMNS, rows), "text/csv")
    return conditional_json(request, {"dataValues": values})


_EXAMPLE: dict[str, Any] = {
    "dataValues": [
        {
            "dataElement": "telecom.subscribers.total",
            "period": "2023",
            "orgUnit": "38",
            "categoryOptionCombo": "LEVEL_COUNT",
            "attributeOptionCombo": "ACTUAL",
            "value": "2980000",
            "comment": "OBS_STATUS:E; The report states +4.44% but the levels 2,957,000 (2022) "
            "→ 2,980,000 (2023) give +0.78%.",
            "followup": True,
        }
    ]
}


_CSV_EXAMPLE = (
    ",".join(export.CSV_COLUMNS)
    + "\ntelecom.subscribers.total,2023,38,LEVEL_COUNT,ACTUAL,2980000,chiso,"
    "2024-01-15T08:30:00+00:00,OBS_STATUS:E,false\n"
)


def _add_export_route(suffix: str, as_csv: bool) -> None:
    async def handler(
        request: Request,
        session: SessionDep,
        settings: SettingsDep,
        data_element: Annotated[
            list[str] | None,
            Query(alias="dataElement", examples=["telecom.subscribers.total"]),
        ] = None,
        period: Annotated[list[str] | None, Query(examples=["2023"])] = None,
        org_unit: Annotated[list[str] | None, Query(alias="orgUnit", examples=["38"])] = None,
        data_set: Annotated[
            list[str] | None,
            Query(
                alias="dataSet",
                description="Data sets (code or uid): the values of their period types.",
                examples=["CHISO_YEARLY"],
            ),
        ] = None,
        children: Annotated[
            bool, Query(description="With the country as `orgUnit`: every province too.")
        ] = False,
        start_date: Annotated[date | None, Query(alias="startDate")] = None,
        end_date: Annotated[date | None, Query(alias="endDate")] = None,
        last_updated: Annotated[UtcDatetime | None, Query(alias="lastUpdated")] = None,
        id_scheme: Annotated[
            IdScheme,
            Query(
                alias="idScheme",
                description="`code` (chiso's codes) or `uid` (the uids of "
                "`/dhis2/api/dataElements`, `organisationUnits`, `categoryOptionCombos`).",
            ),
        ] = "code",
        format: Annotated[Literal["json", "csv"] | None, Query()] = None,
        locale: Annotated[
            export.Locale,
            Query(description="The language of the quality flags' messages in `comment`."),
        ] = "en",
    ) -> Response:
        csv_wanted = as_csv or format == "csv"
        return await _export(
            request,
            session,
            settings,
            data_element,
            period,
            org_unit,
            data_set,
            children,
            start_date,
            end_date,
            last_updated,
            csv_wanted,
            locale,
            id_scheme.lower() == "uid",
        )

    handler.__name__ = f"dhis2_data_value_sets{suffix.replace('.', '_')}"
    router.add_api_route(
        f"/dataValueSets{suffix}",
        handler,
        methods=["GET"],
        summary=f"Export data values (DHIS2 dataValueSets{suffix or ', JSON'})",
        description="`comment` holds `OBS_STATUS:<code>`, then the messages of the value's "
        "open data-quality flags (English, or Vietnamese with `locale=vi`), joined by `; `; "
        "`followup` is true when one of them is an error or a warning.",
        response_class=Response,
        responses={
            # `format=csv` makes the JSON route answer in CSV too.
            200: {
                "content": {
                    **({} if as_csv else {"application/json": {"example": _EXAMPLE}}),
                    "text/csv": {"example": _CSV_EXAMPLE},
                }
            },
            **web_message_responses(413, 422),
        },
        include_in_schema=suffix != ".json",
    )


for _suffix, _csv in (("", False), (".json", False), (".csv", True)):
    _add_export_route(_suffix, _csv)


_SUCCESS_EXAMPLE: dict[str, Any] = {
    "httpStatus": "OK",
    "httpStatusCode": 200,
    "status": "OK",
    "message": "Import was successful. / Nhập dữ liệu thành công.",
    "response": {
        "responseType": "ImportSummary",
        "status": "SUCCESS",
        "importOptions": {
            "dryRun": False,
            "idSchemes": {"idScheme": "CODE"},
            "importStrategy": "CREATE_AND_UPDATE",
        },
        "description": "Import process completed successfully. / Nhập dữ liệu hoàn tất.",
        "importCount": {"imported": 2, "updated": 0, "ignored": 0, "deleted": 0},
        "conflicts": [],
        "rejectedIndexes": [],
        "dataSetComplete": "2024-01-15",
        "revision": 7,
    },
}
_CONFLICT_EXAMPLE: dict[str, Any] = {
    **_SUCCESS_EXAMPLE,
    "httpStatus": "Conflict",
    "httpStatusCode": 409,
    "status": "WARNING",
    "message": "One more conflicts encountered, please check import summary. / "
    "Có giá trị bị từ chối, xem tóm tắt nhập dữ liệu.",
    "response": {
        **_SUCCESS_EXAMPLE["response"],
        "status": "WARNING",
        "importCount": {"imported": 2, "updated": 0, "ignored": 1, "deleted": 0},
        "conflicts": [
            {
                "object": "99",
                "objects": {"orgUnit": "99"},
                "value": "Organisation unit not found or not accessible: `99`. / "
                "Không tìm thấy đơn vị tổ chức: `99`.",
                "errorCode": "E7612",
                "property": "orgUnit",
                "indexes": [2],
            }
        ],
        "rejectedIndexes": [2],
    },
}


@router.post(
    "/dataValueSets",
    response_model=WebMessage,
    response_model_exclude_none=True,
    summary="Import data values (DHIS2 dataValueSets), answered with a WebMessage",
    description="The set-level form (`dataSet`, `period`, `orgUnit`, `attributeOptionCombo` "
    "on the set, inherited by each value that gives none) and the value-level form. Valid "
    "values are imported; each invalid one is reported in `response.conflicts` (DHIS2's "
    "error codes E7610-E7620, with the `indexes` of the values it hit) and counted as "
    "ignored. 200 when every value went in; 409 with status WARNING when some were rejected, "
    "409 with status ERROR when the set itself was (an unknown `dataSet`, `orgUnit` or "
    "`attributeOptionCombo` on the set). Identifiers are matched by code, then by uid. "
    "`dryRun=true` counts without writing, and reports no `revision`.",
    responses={
        200: {"content": {"application/json": {"example": _SUCCESS_EXAMPLE}}},
        409: {
            "model": WebMessage,
            "description": "Some values, or the whole set, were rejected.",
            "content": {"application/json": {"example": _CONFLICT_EXAMPLE}},
        },
        # 400: a body that is not a data value set (and a NUL in it: a problem, from the
        # guard before any route); 422: a bad query parameter.
        **web_message_responses(400, 422),
        # Over MAX_REQUEST_BYTES, counted as it streams in, before any route runs.
        **problem_responses(413),
    },
)
async def post_data_value_sets(
    request: Request,
    payload: DataValueSetIn,
    session: SessionDep,
    book: QualityBookDep,
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
    id_scheme: Annotated[
        IdScheme,
        Query(alias="idScheme", description="Reported back; codes and uids both match."),
    ] = "code",
) -> Response:
    metrics = indicators_metrics(request)
    with metrics.importing("dhis2"):
        summary = await import_value_set(
            session, payload, dry_run=dry_run, book=book, id_scheme=id_scheme.upper()
        )
    metrics.imported("dhis2", dry_run=dry_run, counts=summary.importCount.model_dump())
    return respond(import_message(summary))


# The metadata a DHIS2 administrator maps codes with (`metadata_routes`).
router.include_router(metadata_router)
