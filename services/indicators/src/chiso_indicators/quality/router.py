"""/v1/quality: the flags the checks raised, and their resolution by a person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import select

from chiso_indicators.db.models import QualityFlag, QualityFlagObservation
from chiso_indicators.deps import SessionDep, SettingsDep
from chiso_indicators.observations.importer import bump_revision
from chiso_indicators.quality.queries import FlagFilter, count_flags, flags_out, list_flags
from chiso_indicators.quality.schemas import (
    FlagOut,
    FlagPage,
    ResolutionIn,
    StatusFilter,
)
from chiso_shared.catalogue import resolve_areas
from chiso_shared.db import utcnow
from chiso_shared.errors import FieldError, NotFound, Unprocessable, problem_responses
from chiso_shared.pagination import LINK_HEADER, TOTAL_COUNT_HEADER, paging_headers
from chiso_shared.quality import COUNTS_EXAMPLE, FLAG_EXAMPLE, Severity

router = APIRouter(prefix="/v1", tags=["quality"])

FlagId = Annotated[int, Path(ge=1, le=2**31 - 1, examples=[12])]
PAGE_EXAMPLE = {
    "items": [FLAG_EXAMPLE],
    "count": 1,
    "next_cursor": None,
    "counts": COUNTS_EXAMPLE,
}


@router.get(
    "/quality",
    response_model=FlagPage,
    summary="Data-quality flags: figures that contradict each other or cannot be right",
    description="Errors first, then warnings, then notes. `counts` breaks the whole selection "
    "down by area, indicator, rule and document. Rules: `change_vs_levels`, `plan_vs_target`, "
    "`components_vs_total`, `conflicting_values`, `revised_estimate`, `same_document_values`, "
    "`implausible_level`, `implausible_jump`, `density_vs_count`.",
    responses={
        200: {
            "content": {"application/json": {"example": PAGE_EXAMPLE}},
            "headers": {
                LINK_HEADER: {
                    "description": 'RFC 8288: `<URL of the next page>; rel="next"`; absent on '
                    "the last page.",
                    "schema": {"type": "string"},
                },
                TOTAL_COUNT_HEADER: {
                    "description": "Flags matching the filters, over every page (`count`).",
                    "schema": {"type": "integer"},
                },
            },
        },
        **problem_responses(400, 422),
    },
)
async def get_quality(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    area: Annotated[list[str] | None, Query(max_length=100, examples=[["38"]])] = None,
    indicator: Annotated[
        list[str] | None, Query(max_length=100, examples=[["telecom.subscribers.total"]])
    ] = None,
    document_id: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=64, examples=["change_vs_levels"])] = None,
    severity: Severity | None = None,
    status: StatusFilter = "open",
    limit: Annotated[int | None, Query(ge=1, examples=[50])] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> FlagPage:
    size = limit or min(settings.default_page_size, settings.max_page_size)
    if size > settings.max_page_size:
        raise Unprocessable(
            f"limit may be at most {settings.max_page_size}.",
            code="indicators.page_too_large",
            errors=[FieldError(field="query.limit", message="too large")],
        )
    filters = FlagFilter(
        areas=resolve_areas(area or ()),
        indicators=indicator or (),
        document_id=document_id,
        rule=rule,
        severity=severity,
        status=status,
    )
    items, next_cursor = await list_flags(session, filters, limit=size, cursor=cursor)
    count, counts = await count_flags(session, filters)
    response.headers.update(paging_headers(request.url, next_cursor, count))
    return FlagPage.model_validate(
        {"items": items, "count": count, "next_cursor": next_cursor, "counts": counts}
    )


@router.get(
    "/quality/{flag_id}",
    response_model=FlagOut,
    summary="One flag, with the figures it concerns and their sources",
    responses={
        200: {"content": {"application/json": {"example": FLAG_EXAMPLE}}},
        **problem_responses(404, 422),
    },
)
async def get_flag(session: SessionDep, flag_id: FlagId) -> FlagOut:
    flag = await _flag(session, flag_id)
    return FlagOut.model_validate((await flags_out(session, [flag]))[0])


@router.post(
    "/quality/{flag_id}/resolution",
    response_model=FlagOut,
    summary="Resolve a flag: a figure accepted or corrected, or the difference explained",
    description="A flag resolved again takes the new resolution (the gateway's audit keeps "
    "each one). A resolution stays with the flag while its check still finds the same "
    "figures; a correction makes new figures, which the checks judge afresh.",
    responses={
        200: {"content": {"application/json": {"example": FLAG_EXAMPLE}}},
        **problem_responses(404, 422),
    },
)
async def resolve_flag(session: SessionDep, flag_id: FlagId, body: ResolutionIn) -> FlagOut:
    flag = await _flag(session, flag_id)
    if body.observation_id is not None:
        involved = await session.scalars(
            select(QualityFlagObservation.observation_id).where(
                QualityFlagObservation.flag_id == flag.id
            )
        )
        if body.observation_id not in set(involved):
            raise Unprocessable(
                "The figure is not one of this flag's.",
                code="indicators.flag_observation",
                errors=[FieldError(field="body.observation_id", message="not in the flag")],
            )
    flag.resolution = body.action
    flag.resolved_by = body.by
    flag.resolved_at = utcnow()
    flag.resolution_note = body.note
    flag.resolved_observation_id = body.observation_id
    await session.flush()
    # reads carry each flag's status, so the answers cached on the revision are stale now
    await bump_revision(session)
    return FlagOut.model_validate((await flags_out(session, [flag]))[0])


async def _flag(session: SessionDep, flag_id: int) -> QualityFlag:
    flag = await session.get(QualityFlag, flag_id)
    if flag is None:
        raise NotFound(f"No flag {flag_id}.", code="indicators.flag_not_found")
    return flag
