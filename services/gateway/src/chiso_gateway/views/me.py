"""/v1/me: who the caller is, for a page to greet its reader by name rather than by client id."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from chiso_gateway.auth.tokens import Principal
from chiso_gateway.deps import Caller
from chiso_gateway.envelope import Envelope, example
from chiso_gateway.people import names
from chiso_shared.errors import problem_responses

router = APIRouter(prefix="/v1", tags=["auth"])


class Me(BaseModel):
    client_id: str = Field(description="The client's id: the identity the data is stored under.")
    name: str = Field(
        description="The client's name from the gateway's client register (the person or desk "
        "it was created for); empty for an anonymous caller."
    )
    org: str = Field(description="The agency, as the access token says.")
    area: str = Field(description="The area the agency serves (`38`, `VN`), or empty.")
    scopes: list[str] = Field(description="What the access token grants, sorted.")
    tier: str = Field(description="The quota tier the caller is counted under.")
    expires_at: datetime | None = Field(
        description="When the access token expires; null for an anonymous caller (no token)."
    )


ME_EXAMPLE = {
    "data": {
        "client_id": "ch_3f9a1c0b2d4e6f8a0b1c2d3e",
        "name": "Nguyễn Văn An",
        "org": "stttt-thanh-hoa",
        "area": "38",
        "scopes": ["documents:write", "facts:review", "indicators:read"],
        "tier": "standard",
        "expires_at": "2026-12-07T10:30:00Z",
    },
    "meta": {},
    "links": {"self": "https://api.example/v1/me"},
}


class CallerDetail(Envelope[Me]):
    """Who the caller is."""


@router.get(
    "/me",
    response_model=CallerDetail,
    summary="Who the caller is: client id, name, agency, area, scopes and tier",
    description="Any valid access token, whatever its scopes. The name comes from the client "
    "register; the agency, area, scopes and tier are the token's (what the gateway applies to "
    "this token's requests). With `ANONYMOUS_READ` on, a call without a token answers for "
    "the anonymous caller of that address: name empty, no expiry.",
    responses={**example(ME_EXAMPLE), **problem_responses(401, 429)},
)
async def me(request: Request, response: Response, principal: Caller) -> Envelope[Me]:
    # It names the caller: no shared cache may keep it, and no browser cache either.
    response.headers["Cache-Control"] = "no-store"
    return Envelope(data=await _me(request, principal), links={"self": str(request.url)})


async def _me(request: Request, principal: Principal) -> Me:
    anonymous = not principal.token_id
    known = {} if anonymous else await names(request, {principal.client_id})
    return Me(
        client_id=principal.client_id,
        name=known.get(principal.client_id, ""),
        org=principal.org,
        area=principal.area,
        scopes=sorted(principal.scopes),
        tier=principal.tier,
        expires_at=None if anonymous else datetime.fromtimestamp(principal.expires_at, UTC),
    )
