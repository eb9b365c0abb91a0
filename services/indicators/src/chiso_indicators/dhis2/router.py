"""DHIS2-style routes under /dhis2/api: dataValueSets export (JSON, CSV) and import."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from chiso_indicators.deps import QualityBookDep, SessionDep, SettingsDep
from chiso_indicators.dhis2 import export
from chiso_indicators.dhis2.importing import DataValueSetIn, Dhis2ImportSummary, import_value_set
from chiso_shared.catalogue import resolve_areas
from chiso_shared.errors import FieldError, Unprocessable, problem_responses
from chiso_shared.periods import Period
from chiso_shared.responses import conditional, conditional_json, csv_bytes
from chiso_shared.times import UtcDatetime

router = APIRouter(prefix="/dhis2/api", tags=["dhis2"])

IdScheme = Literal["code", "CODE"]


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


async def _export(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    data_element: list[str] | None,
    period: list[str] | None,
    org_unit: list[str] | None,
    start_date: date | None,
    end_date: date | None,
    last_updated: datetime | None,
    as_csv: bool,
    locale: export.Locale,
) -> Response:
    values = await export.data_values(
        session,
        data_elements=_split(data_element),
        periods=_periods(_split(period)),
        org_units=resolve_areas(_split(org_unit)),
        # Periods are matched by their first year; finer date windows are not needed yet.
        start_period=str(start_date.year) if start_date else None,
        end_period=str(end_date.year) if end_date else None,
        last_updated=last_updated,
        cap=settings.max_export_observations,
        locale=locale,
    )
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
        start_date: Annotated[date | None, Query(alias="startDate")] = None,
        end_date: Annotated[date | None, Query(alias="endDate")] = None,
        last_updated: Annotated[UtcDatetime | None, Query(alias="lastUpdated")] = None,
        id_scheme: Annotated[IdScheme, Query(alias="idScheme")] = "code",  # noqa: ARG001 only codes
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
            start_date,
            end_date,
            last_updated,
            csv_wanted,
            locale,
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
            **problem_responses(413, 422),
        },
        include_in_schema=suffix != ".json",
    )


for _suffix, _csv in (("", False), (".json", False), (".csv", True)):
    _add_export_route(_suffix, _csv)


@router.post(
    "/dataValueSets",
    response_model=Dhis2ImportSummary,
    summary="Import data values (DHIS2 dataValueSets) with an import summary",
    # 400: a body that is not UTF-8 fails before it can be validated; 413: over
    # MAX_REQUEST_BYTES, counted as it streams in.
    responses=problem_responses(400, 413, 422),
)
async def post_data_value_sets(
    payload: DataValueSetIn,
    session: SessionDep,
    book: QualityBookDep,
    dry_run: Annotated[bool, Query(alias="dryRun")] = False,
    id_scheme: Annotated[IdScheme, Query(alias="idScheme")] = "code",  # noqa: ARG001 only codes
) -> Dhis2ImportSummary:
    return await import_value_set(session, payload, dry_run=dry_run, book=book)
