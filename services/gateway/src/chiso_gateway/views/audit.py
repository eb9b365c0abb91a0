"""/v1/audit: the audit log and a check of its hash chain.

Rows name clients, users and purposes, so `audit:read` shows an agency only its own rows (its
clients' requests); `audit:admin` shows every row. Requests no client was recognised for (no
or a bad token) have no agency and only `audit:admin` sees them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from chiso_gateway import audit
from chiso_gateway.auth.tokens import Principal
from chiso_gateway.deps import SessionDep, require
from chiso_gateway.envelope import Envelope, example
from chiso_shared.errors import problem_responses

router = APIRouter(prefix="/v1/audit", tags=["audit"])
FLUSH_SECONDS = 5.0
# The largest row id (a signed 64-bit key): a larger `after_id` cannot be bound as a
# parameter by either database driver, so it is refused as invalid rather than failing as a 500.
MAX_ROW_ID = 2**63 - 1
ADMIN_SCOPE = "audit:admin"
Auditor = Annotated[Principal, Depends(require("audit:read", ADMIN_SCOPE))]
COLUMNS = (
    "id",
    "ts",
    "request_id",
    "client_id",
    "org",
    "user_id",
    "purpose",
    "method",
    "route",
    "status",
    "latency_ms",
    "request_hash",
    "response_hash",
    "subject",
    "prev_hash",
    "hash",
)


class AuditPage(Envelope[list[dict[str, Any]]]):
    """A page of audit rows, oldest first."""


@router.get(
    "",
    response_model=AuditPage,
    summary="Audit rows, oldest first, paged by `after_id`",
    description=(
        "With `audit:read`, the rows of the caller's own agency (the `org` of its client): its"
        " clients' requests. With `audit:admin`, every row, whatever the agency, including"
        " requests that presented no valid credentials. A client without an agency reads only"
        " its own rows."
    ),
    responses={
        **example(
            {
                "data": [
                    {
                        "id": 1843,
                        "ts": "2026-11-26T08:00:00.123Z",
                        "request_id": "5d0c6c1e8f2b4a0e9f61b7a4d1c3e2f0",
                        "client_id": "hue-s",
                        "org": "000.00.46.H57",
                        "user_id": "citizen-8812",
                        "purpose": "app-home",
                        "method": "GET",
                        "route": "/v1/org-units/{code}/summary",
                        "status": 200,
                        "latency_ms": 6.4,
                        "request_hash": "3b1f...e9",
                        "response_hash": "a77c...01",
                        "subject": "",
                        "prev_hash": "9e4d...5c",
                        "hash": "c2a8...7d",
                    }
                ],
                "meta": {"count": 1},
                "links": {"next": "https://lgsp.example.gov.vn/chiso/v1/audit?after_id=1843"},
            }
        ),
        **problem_responses(401, 403, 422, 429),
    },
)
async def read_audit(
    request: Request,
    session: SessionDep,
    principal: Auditor,
    after_id: Annotated[int, Query(ge=0, le=MAX_ROW_ID, examples=[0])] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, examples=[100])] = 100,
) -> Envelope[list[dict[str, Any]]]:
    await _flush(request)
    rows = await audit.page(session, after_id=after_id, limit=limit, **_visible_to(principal))
    data = [{column: getattr(row, column) for column in COLUMNS} for row in rows]
    links: dict[str, str | None] = {"self": str(request.url), "next": None}
    if len(rows) == limit:
        links["next"] = str(request.url.include_query_params(after_id=rows[-1].id))
    return Envelope(data=data, meta={"count": len(data)}, links=links)


class AuditVerification(Envelope[dict[str, Any]]):
    """Whether the audit hash chain holds."""


@router.get(
    "/verify",
    response_model=AuditVerification,
    summary="Check the audit hash chain from its first row",
    description=(
        "Open to `audit:read` and `audit:admin`: the answer says only whether the whole chain"
        " holds and how many rows it has, no row's content."
    ),
    responses={
        **example({"data": {"ok": True, "rows": 1842, "broken_at": None, "reason": ""}}),
        **problem_responses(401, 403, 429),
    },
)
async def verify_audit(
    request: Request, session: SessionDep, _principal: Auditor
) -> Envelope[dict[str, Any]]:
    await _flush(request)
    result = await audit.verify(session)
    return Envelope(
        data={
            "ok": result.ok,
            "rows": result.rows,
            "broken_at": result.broken_at,
            "reason": result.reason,
        }
    )


def _visible_to(principal: Principal) -> dict[str, str]:
    """The `audit.page` filters of the rows `principal` may read."""
    if ADMIN_SCOPE in principal.scopes:
        return {}
    if principal.org:
        return {"org": principal.org}
    return {"client_id": principal.client_id}


async def _flush(request: Request) -> None:
    """Let this process's queued rows in first, so a caller reads the requests it has made."""
    writer = getattr(request.state, "audit", None)
    if isinstance(writer, audit.AuditWriter):
        await writer.flush(FLUSH_SECONDS)
