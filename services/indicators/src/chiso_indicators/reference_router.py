"""/v1/indicators and /v1/areas: the catalogue and the area list."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.responses import Response

from chiso_indicators.db.models import Area, AreaVersion, Indicator
from chiso_indicators.deps import SessionDep
from chiso_indicators.observations.schemas import AreaOut, AreaVersionOut, IndicatorOut
from chiso_shared.catalogue import resolve_area
from chiso_shared.errors import NotFound, problem_responses
from chiso_shared.responses import conditional_json

router = APIRouter(prefix="/v1", tags=["reference"])


def _indicator(row: Indicator) -> IndicatorOut:
    return IndicatorOut(
        code=row.code,
        unit=row.unit,
        name_vi=row.name_vi,
        name_en=row.name_en,
        reference=row.reference,
    )


@router.get("/indicators", response_model=list[IndicatorOut], summary="The indicator catalogue")
async def list_indicators(request: Request, session: SessionDep) -> Response:
    rows = (await session.scalars(select(Indicator).order_by(Indicator.code))).all()
    return conditional_json(request, [_indicator(row) for row in rows])


@router.get(
    "/indicators/{code}",
    response_model=IndicatorOut,
    summary="One indicator",
    responses=problem_responses(404),
)
async def get_indicator(
    session: SessionDep,
    code: Annotated[str, Path(max_length=200, examples=["telecom.subscribers.total"])],
) -> IndicatorOut:
    row = await session.get(Indicator, code)
    if row is None:
        raise NotFound(f"No indicator with code {code!r}.", code="indicators.unknown_indicator")
    return _indicator(row)


def _version(row: AreaVersion) -> AreaVersionOut:
    return AreaVersionOut.model_validate(
        {
            "code_list": row.code_list,
            "name_vi": row.name_vi,
            "name_en": row.name_en,
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            "successor": row.successor or None,
            "iso_3166_2": row.iso_3166_2 or None,
        }
    )


def _area(row: Area, predecessors: list[str]) -> AreaOut:
    return AreaOut(
        code=row.code,
        name_vi=row.name_vi,
        name_en=row.name_en,
        level=row.level,
        code_list=row.code_list,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        successor=row.successor or None,
        iso_3166_2=next((v.iso_3166_2 for v in row.versions if v.iso_3166_2), None),
        predecessors=predecessors,
        versions=[_version(version) for version in row.versions],
    )


def _on_list(row: Area, code_list: str | None, on: date | None) -> bool:
    """Whether some version of the area is on `code_list` (the country is on every list)
    and in force on `on`."""
    return any(
        (code_list is None or v.code_list in (code_list, ""))
        and (v.valid_from is None or on is None or v.valid_from <= on)
        and (v.valid_to is None or on is None or on <= v.valid_to)
        for v in row.versions
    )


async def _areas(session: SessionDep) -> tuple[list[Area], dict[str, list[str]]]:
    rows = (
        await session.scalars(
            select(Area)
            .options(selectinload(Area.versions))
            .order_by(Area.level != "country", Area.code)
        )
    ).all()
    merged: dict[str, list[str]] = {}
    for row in rows:
        for version in row.versions:
            if version.code_list == "2004" and version.successor:
                merged.setdefault(version.successor, []).append(row.code)
    return list(rows), merged


@router.get(
    "/areas",
    response_model=list[AreaOut],
    summary="Areas: VN and the provinces of the 2004 and 2025 code lists",
    description=(
        "One entry per GSO code, written as the GSO writes it (`38` Thanh Hóa, `01` Hà Nội; `VN` "
        "the country); `iso_3166_2` gives ISO's code where ISO has one (ISO's `VN-21` is Thanh "
        "Hóa: never join ISO data on `code`). A code that outlived the 2025 merger (the merged "
        "province kept it) has two versions; `predecessors` and `successor` give the merger "
        "mapping. Filter with `code_list` and `on` (e.g. `code_list=2025`, or `on=2023-12-31` for "
        "the 63 provinces of that date)."
    ),
)
async def list_areas(
    request: Request,
    session: SessionDep,
    code_list: Annotated[
        Literal["2004", "2025"] | None, Query(description="Only areas on this code list.")
    ] = None,
    on: Annotated[date | None, Query(description="Only areas in force on this date.")] = None,
) -> Response:
    rows, merged = await _areas(session)
    chosen = [row for row in rows if _on_list(row, code_list, on)]
    return conditional_json(request, [_area(row, merged.get(row.code, [])) for row in chosen])


@router.get(
    "/areas/{code}",
    response_model=AreaOut,
    summary="One area with its versions and merger mapping",
    responses=problem_responses(404),
)
async def get_area(
    session: SessionDep,
    code: Annotated[
        str,
        Path(
            max_length=16,
            description="A GSO code (`24`), `VN`, or an ISO 3166-2 code as `iso:VN-54`.",
            examples=["24"],
        ),
    ],
) -> AreaOut:
    wanted = resolve_area(code)
    rows, merged = await _areas(session)
    for row in rows:
        if row.code == wanted:
            return _area(row, merged.get(row.code, []))
    raise NotFound(f"No area with code {code!r}.", code="indicators.unknown_area")
