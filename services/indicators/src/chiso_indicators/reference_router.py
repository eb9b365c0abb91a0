"""/v1/indicators and /v1/areas: the catalogue and the area list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from sqlalchemy import select
from starlette.responses import Response

from chiso_indicators.db.models import Area, Indicator
from chiso_indicators.deps import SessionDep
from chiso_indicators.observations.schemas import AreaOut, IndicatorOut
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


@router.get("/areas", response_model=list[AreaOut], summary="Areas: VN and the provinces")
async def list_areas(request: Request, session: SessionDep) -> Response:
    rows = (await session.scalars(select(Area).order_by(Area.code))).all()
    return conditional_json(
        request,
        [
            AreaOut(
                code=row.code,
                name_vi=row.name_vi,
                name_en=row.name_en,
                level=row.level,
                code_list=row.code_list,
            )
            for row in rows
        ],
    )
