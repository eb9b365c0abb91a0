"""/v1/quality: the data-quality flags indicators raises over the numbers it holds, and a
reviewer's resolution of one; and the flagged items the review queue puts first.

A client whose agency serves a province reads only that province's flags (`quality.
visible_areas`). A resolution is the calling client's, whatever the body says, and is audited
with the flag it resolves (the audit row's `subject`), so a flag resolved twice keeps both
in the log.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from chiso_gateway import quality
from chiso_gateway.auth.tokens import Principal
from chiso_gateway.deps import IndicatorsDep, require
from chiso_gateway.envelope import Envelope, example
from chiso_gateway.people import people
from chiso_gateway.upstream import Upstream, UpstreamError, upstream_path
from chiso_shared.errors import ChisoError, NotFound, problem_responses
from chiso_shared.quality import COUNTS_EXAMPLE, FLAG_EXAMPLE

router = APIRouter(prefix="/v1", tags=["quality"])
logger = logging.getLogger("chiso.gateway.quality")
Reader = Annotated[Principal, Depends(require("indicators:read"))]
Reviewer = Annotated[Principal, Depends(require("facts:review"))]
ID_MAX = 2**31 - 1  # indicators' ids are 32-bit integers: a larger one is no flag's

RESOLUTION_EXAMPLE = {
    "action": "accept",
    "by": "ch_3f9a1c",
    "at": "2026-12-08T09:30:00Z",
    "note": "Số liệu năm 2022 đã được Sở điều chỉnh.",
    "observation_id": 5,
}
AreaList = Annotated[
    list[str] | None,
    Query(
        alias="area",
        max_length=100,
        description="Flags filed under these areas (repeatable). A client whose agency serves "
        "a province reads that province's alone: it may leave `area` out, and another area "
        "is 403 `gateway.area_forbidden`.",
        examples=[["38"]],
    ),
]
IndicatorList = Annotated[
    list[str] | None,
    Query(alias="indicator", max_length=100, examples=[["telecom.subscribers.total"]]),
]
FlagId = Annotated[int, Path(ge=1, le=ID_MAX, examples=[12])]


class QualityFlagPage(Envelope[list[dict[str, Any]]]):
    """A page of data-quality flags."""


@router.get(
    "/quality",
    response_model=QualityFlagPage,
    summary="Data-quality flags: numbers that contradict each other or cannot be right",
    description="The flags the checks over the held numbers raised (open ones by default), "
    "each with its rule, severity, message in Vietnamese and English, the figures compared "
    "and the observations involved with their sources. `meta.count` is how many match in "
    "all, `meta.counts` the matching flags by area, indicator, rule and document, "
    "`links.next` the next page; `meta.people` maps the resolvers' and reviewers' client ids "
    "to their names.",
    responses={
        **example(
            {
                "data": [FLAG_EXAMPLE],
                "meta": {
                    "count": 1,
                    "counts": COUNTS_EXAMPLE,
                    "next_cursor": None,
                    "people": {},
                },
                "links": {"self": "https://api.example/v1/quality?area=38", "next": None},
            }
        ),
        **problem_responses(400, 401, 403, 422, 429, 502, 504),
    },
)
async def list_flags(
    request: Request,
    indicators: IndicatorsDep,
    principal: Reader,
    areas: AreaList = None,
    indicator_codes: IndicatorList = None,
    document_id: Annotated[
        str | None, Query(max_length=36, examples=["6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10"])
    ] = None,
    rule: Annotated[str | None, Query(max_length=64, examples=["change_vs_levels"])] = None,
    severity: Literal["error", "warning", "info"] | None = None,
    status: Literal["open", "resolved", "all"] = "open",
    limit: Annotated[int | None, Query(ge=1, le=500, examples=[50])] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Envelope[list[dict[str, Any]]]:
    params: list[tuple[str, Any]] = [
        ("area", area) for area in quality.visible_areas(principal, quality.checked(areas))
    ]
    params += [("indicator", code) for code in indicator_codes or []]
    single = {
        "document_id": document_id,
        "rule": rule,
        "severity": severity,
        "status": status,
        "limit": limit,
        "cursor": cursor,
    }
    params += [(name, value) for name, value in single.items() if value is not None]
    page = (await indicators.request("GET", "/v1/quality", params=params)).json()
    items = page["items"]
    next_cursor = page.get("next_cursor")
    next_link = str(request.url.include_query_params(cursor=next_cursor)) if next_cursor else None
    meta = {
        "count": page.get("count", len(items)),
        "counts": page.get("counts", {}),
        "next_cursor": next_cursor,
        "people": await people(request, items),
    }
    return Envelope(data=items, meta=meta, links={"self": str(request.url), "next": next_link})


class QualityFlagDetail(Envelope[dict[str, Any]]):
    """One data-quality flag."""


@router.get(
    "/quality/{flag_id}",
    response_model=QualityFlagDetail,
    summary="One data-quality flag",
    description="`meta.people` maps the resolver's and the sources' reviewers' client ids "
    "to their names. A client whose agency serves a province reads only that province's "
    "flags (another's: 404, as if it were not there).",
    responses={
        **example(
            {
                "data": {**FLAG_EXAMPLE, "status": "resolved", "resolution": RESOLUTION_EXAMPLE},
                "meta": {"people": {"ch_3f9a1c": "Nguyễn Văn An"}},
                "links": {"self": "https://api.example/v1/quality/12"},
            }
        ),
        **problem_responses(401, 403, 404, 422, 429, 502, 504),
    },
)
async def get_flag(
    request: Request, indicators: IndicatorsDep, principal: Reader, flag_id: FlagId
) -> Envelope[dict[str, Any]]:
    flag = await _flag(indicators, flag_id)
    bound = quality.bound_area(principal)
    if bound and flag.get("area") != bound:
        raise _unknown(flag_id)
    return Envelope(
        data=flag, meta={"people": await people(request, flag)}, links={"self": str(request.url)}
    )


async def _flag(indicators: Upstream, flag_id: int) -> dict[str, Any]:
    path = upstream_path("v1", "quality", str(flag_id))
    flag: dict[str, Any] = (await indicators.request("GET", path)).json()
    return flag


def _unknown(flag_id: int) -> ChisoError:
    return NotFound(
        f"No data-quality flag {flag_id}. / Không có cảnh báo số liệu {flag_id}.",
        code="gateway.unknown_flag",
    )


class ResolutionRequest(BaseModel):
    """A resolution as a client sends it; the gateway adds who resolved (the client's id)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"action": "accept", "observation_id": 5},
                {
                    "action": "correct",
                    "observation_id": 7,
                    "note": "Sửa theo số liệu chính thức của Cục Thống kê.",
                },
                {
                    "action": "explain",
                    "note": "Năm 2023 tỉnh tính lại số thuê bao theo quy định mới.",
                },
            ]
        },
    )

    action: Literal["accept", "correct", "explain"] = Field(
        description="accept: the figure `observation_id` is right (its fact accepted first, "
        "through the review routes); correct: the figure was corrected (likewise); explain: "
        "the figures stand and `note` says why they disagree."
    )
    note: str | None = Field(default=None, max_length=2000)
    observation_id: int | None = Field(
        default=None,
        ge=1,
        le=ID_MAX,
        description="For accept and correct: one of the flag's observations.",
    )

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.action == "explain" and not (self.note or "").strip():
            raise ValueError("explain needs a note saying why the figures disagree")
        if self.action != "explain" and self.observation_id is None:
            raise ValueError(f"{self.action} needs the observation_id of the figure")
        return self


async def audited_flag(request: Request, flag_id: FlagId) -> int:
    """The flag id, named in the audit row before the body is read: a refused resolution is
    audited with its flag too."""
    request.state.audit_subject = f"quality:{flag_id}"
    return flag_id


class QualityFlagResolved(Envelope[dict[str, Any]]):
    """A data-quality flag with the resolution just recorded."""


@router.post(
    "/quality/{flag_id}/resolution",
    response_model=QualityFlagResolved,
    summary="Resolve a data-quality flag: accept a figure, record a correction, or explain",
    description="Needs `facts:review`. `by` is the calling client. For accept and correct, "
    "review the fact first (`POST /v1/documents/{id}/reviews`), then resolve the flag with "
    "the figure's `observation_id`; explain needs a `note`. Resolving a resolved flag "
    "replaces its resolution (the audit log keeps each). Answers the flag as it now is.",
    responses={
        **example(
            {
                "data": {**FLAG_EXAMPLE, "status": "resolved", "resolution": RESOLUTION_EXAMPLE},
                "meta": {"people": {"ch_3f9a1c": "Nguyễn Văn An"}},
                "links": {"self": "https://api.example/v1/quality/12"},
            }
        ),
        **problem_responses(400, 401, 403, 404, 409, 422, 429, 502, 504),
    },
)
async def resolve_flag(
    request: Request,
    indicators: IndicatorsDep,
    principal: Reviewer,
    flag_id: Annotated[int, Depends(audited_flag)],
    body: ResolutionRequest,
) -> Envelope[dict[str, Any]]:
    bound = quality.bound_area(principal)
    if bound and (await _flag(indicators, flag_id)).get("area") != bound:
        raise _unknown(flag_id)
    sent = {**body.model_dump(mode="json"), "by": principal.client_id}
    path = upstream_path("v1", "quality", str(flag_id), "resolution")
    flag = (await indicators.request("POST", path, json=sent)).json()
    detail = f" observation:{body.observation_id}" if body.observation_id else ""
    request.state.audit_subject = f"quality:{flag_id} resolution:{body.action}{detail}"
    link = str(request.url_for("get_flag", flag_id=flag_id))
    return Envelope(data=flag, meta={"people": await people(request, flag)}, links={"self": link})


@dataclass
class QueueFlags:
    """The flagged items a review queue's first page starts with."""

    items: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0  # open flags in the caller's scope, shown or not
    unavailable: bool = False  # indicators could not be asked: the queue goes on without


async def queue_flags(
    indicators: Upstream,
    ingest: Upstream,
    principal: Principal,
    *,
    most: int,
    scope: str | None,
    document_id: str | None,
) -> QueueFlags:
    """The open flags of the caller's scope (at most `most`), each with the ingest facts its
    figures were read from. Indicators failing (down, slow, refusing) leaves the queue
    without flags, said in `unavailable`; ingest failing fails the queue as before."""
    areas = quality.queue_areas(principal, scope)
    if areas is None or most == 0:
        return QueueFlags()
    params: list[tuple[str, Any]] = [("area", area) for area in areas]
    params += [("status", "open"), ("limit", most)]
    if document_id is not None:
        params.append(("document_id", document_id))
    try:
        page = (await indicators.request("GET", "/v1/quality", params=params)).json()
        flags: list[dict[str, Any]] = page["items"]
        count = int(page.get("count", len(flags)))
    except (ChisoError, ValueError, KeyError, TypeError) as exc:
        logger.warning("review queue without quality flags: %s", exc)
        return QueueFlags(unavailable=True)
    documents = quality.documents_of(flags)
    found = await asyncio.gather(*(_facts(ingest, document) for document in documents))
    facts = dict(zip(documents, found, strict=True))
    return QueueFlags([quality.queue_item(flag, facts) for flag in flags], count)


async def _facts(ingest: Upstream, document_id: str) -> list[dict[str, Any]]:
    """A document's effective facts, or none for a document ingest does not hold."""
    path = upstream_path("v1", "documents", document_id, "facts")
    try:
        answer = await ingest.request("GET", path)
    except UpstreamError as exc:
        if exc.status_code in (404, 422):
            return []
        raise
    facts: list[dict[str, Any]] = answer.json()["facts"]
    return facts
