"""/v1/admin/clients: create, list, rotate, re-tier and revoke API clients over HTTP, beside
`chiso clients ...`; both go through `auth.clients`. Needs the scope `clients:admin`, which
only a client created with it explicitly holds. Every call is audited like any request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from chiso_gateway.auth import clients
from chiso_gateway.auth.tokens import Principal
from chiso_gateway.db.models import Client
from chiso_gateway.deps import SessionDep, SettingsDep, require
from chiso_gateway.envelope import Envelope, example
from chiso_shared.errors import NotFound, Unprocessable, problem_responses

router = APIRouter(prefix="/v1/admin/clients", tags=["admin"])
Admin = Annotated[Principal, Depends(require("clients:admin"))]

CLIENT_EXAMPLE: dict[str, Any] = {
    "client_id": "ch_3f9a1c0b2d4e6f8a0b1c2d3e",
    "name": "Cổng dữ liệu tỉnh",
    "org": "stttt-thanh-hoa",
    "area": "38",
    "tier": "standard",
    "scopes": ["indicators:read"],
    "created_at": "2026-12-06T09:00:00Z",
    "revoked_at": None,
}
SECRET_EXAMPLE: dict[str, Any] = {
    "client_id": "ch_3f9a1c0b2d4e6f8a0b1c2d3e",
    "client_secret": "q0Zk3VtQe9m2H1m8o5oJm1l8aB4c7d2e9f0g1h2i3j4",
    "scopes": ["indicators:read"],
}


class ClientRecord(BaseModel):
    """An API client as the register holds it (never its secret)."""

    model_config = ConfigDict(json_schema_extra={"examples": [CLIENT_EXAMPLE]})

    client_id: str
    name: str
    org: str
    area: str
    tier: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: Client) -> ClientRecord:
        return cls(
            client_id=row.client_id,
            name=row.name,
            org=row.org,
            area=row.area,
            tier=row.tier,
            scopes=row.scopes.split(),
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


class ClientSecret(BaseModel):
    """A client's id and secret: the secret is shown this once, store it now."""

    model_config = ConfigDict(json_schema_extra={"examples": [SECRET_EXAMPLE]})

    client_id: str
    client_secret: str
    scopes: list[str]


class ClientCreate(BaseModel):
    """A new client: who it is for, what it may do, its agency, area and quota tier."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Cổng dữ liệu tỉnh",
                    "scopes": ["indicators:read"],
                    "org": "stttt-thanh-hoa",
                    "area": "38",
                    "tier": "standard",
                }
            ]
        },
    )

    name: str = Field(max_length=200)
    scopes: list[str] = Field(max_length=len(clients.SCOPES))
    org: str = Field(default="", max_length=100)
    area: str = Field(default="", max_length=20)
    tier: str = Field(default="standard", max_length=32)


class ClientChange(BaseModel):
    """What to change of a client; fields left out stay as they are. A new tier holds for
    the tokens it gets from then on."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"tier": "gold"}, {"area": "46"}]}
    )

    name: str | None = Field(default=None, max_length=200)
    tier: str | None = Field(default=None, max_length=32)
    area: str | None = Field(default=None, max_length=20)


class ClientDetail(Envelope[ClientRecord]):
    """One client."""


class ClientList(Envelope[list[ClientRecord]]):
    """Every client, oldest first, revoked ones included."""


class ClientCreated(Envelope[ClientSecret]):
    """The new client's id and its secret, shown once."""


def _invalid(exc: clients.ClientError) -> Unprocessable:
    return Unprocessable(str(exc), code="gateway.client_invalid")


def _missing(client_id: str) -> NotFound:
    return NotFound(
        f"không có client {client_id[:64]!r}. / no client {client_id[:64]!r}.",
        code="gateway.client_not_found",
    )


def _envelope(request: Request, data: Any) -> dict[str, Any]:
    return {"data": data, "meta": {}, "links": {"self": str(request.url)}}


@router.post(
    "",
    status_code=201,
    response_model=ClientCreated,
    summary="Create a client; its secret is in the answer, once",
    description="Needs `clients:admin`. The scopes are any of the gateway's (see"
    " `/.well-known/oauth-authorization-server`); `clients:admin` itself is granted only when"
    " asked for. 422 for an unknown scope or tier or a malformed name, org or area.",
    responses={
        201: {"content": {"application/json": {"example": {"data": SECRET_EXAMPLE}}}},
        **problem_responses(401, 403, 422, 429),
    },
)
async def create_client(
    request: Request,
    response: Response,
    body: ClientCreate,
    session: SessionDep,
    settings: SettingsDep,
    _: Admin,
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"  # it holds a secret
    try:
        created = await clients.create(
            session,
            body.name,
            body.scopes,
            org=body.org,
            area=body.area,
            tier=body.tier,
            tiers=settings.quota_tiers,
        )
    except clients.ClientError as exc:
        raise _invalid(exc) from exc
    secret = ClientSecret(
        client_id=created.client_id,
        client_secret=created.client_secret,
        scopes=list(created.scopes),
    )
    return _envelope(request, secret)


@router.get(
    "",
    response_model=ClientList,
    summary="List the clients (never their secrets)",
    description="Needs `clients:admin`.",
    responses={**example({"data": [CLIENT_EXAMPLE]}), **problem_responses(401, 403, 429)},
)
async def list_clients(request: Request, session: SessionDep, _: Admin) -> dict[str, Any]:
    rows = await clients.list_all(session)
    return _envelope(request, [ClientRecord.of(row) for row in rows])


@router.get(
    "/{client_id}",
    response_model=ClientDetail,
    summary="One client (never its secret)",
    description="Needs `clients:admin`.",
    responses={**example({"data": CLIENT_EXAMPLE}), **problem_responses(401, 403, 404, 429)},
)
async def get_client(
    request: Request, client_id: str, session: SessionDep, _: Admin
) -> dict[str, Any]:
    row = await clients.get(session, client_id)
    if row is None:
        raise _missing(client_id)
    return _envelope(request, ClientRecord.of(row))


@router.patch(
    "/{client_id}",
    response_model=ClientDetail,
    summary="Rename, re-tier or move a client to another area",
    description="Needs `clients:admin`. A new tier or area is in the tokens the client gets"
    " from then on; its tokens already issued keep theirs until they expire.",
    responses={**example({"data": CLIENT_EXAMPLE}), **problem_responses(401, 403, 404, 422, 429)},
)
async def change_client(
    request: Request,
    client_id: str,
    body: ClientChange,
    session: SessionDep,
    settings: SettingsDep,
    _: Admin,
) -> dict[str, Any]:
    try:
        row = await clients.update(
            session,
            client_id,
            name=body.name,
            tier=body.tier,
            area=body.area,
            tiers=settings.quota_tiers,
        )
    except clients.ClientError as exc:
        raise _invalid(exc) from exc
    if row is None:
        raise _missing(client_id)
    return _envelope(request, ClientRecord.of(row))


@router.post(
    "/{client_id}/rotate-secret",
    response_model=ClientCreated,
    summary="Give a client a new secret; the old one stops working at once",
    description="Needs `clients:admin`. Tokens issued with the old secret keep working until"
    " they expire (revoke the client to end them). 404 for a revoked client.",
    responses={**example({"data": SECRET_EXAMPLE}), **problem_responses(401, 403, 404, 429)},
)
async def rotate_secret(
    request: Request, response: Response, client_id: str, session: SessionDep, _: Admin
) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"  # it holds a secret
    rotated = await clients.rotate_secret(session, client_id)
    if rotated is None:
        raise _missing(client_id)
    secret = ClientSecret(
        client_id=rotated.client_id,
        client_secret=rotated.client_secret,
        scopes=list(rotated.scopes),
    )
    return _envelope(request, secret)


@router.post(
    "/{client_id}/revoke",
    response_model=ClientDetail,
    summary="Revoke a client: its secret at once, its tokens within CLIENT_CHECK_SECONDS",
    description="Needs `clients:admin`. Revoking a revoked client changes nothing.",
    responses={
        **example({"data": {**CLIENT_EXAMPLE, "revoked_at": "2026-12-06T10:00:00Z"}}),
        **problem_responses(401, 403, 404, 429),
    },
)
async def revoke_client(
    request: Request, client_id: str, session: SessionDep, _: Admin
) -> dict[str, Any]:
    if not await clients.revoke(session, client_id):
        raise _missing(client_id)
    row = await clients.get(session, client_id)
    assert row is not None  # just revoked, in this transaction
    return _envelope(request, ClientRecord.of(row))
