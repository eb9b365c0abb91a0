"""/v1/areas: the areas (the country and its provinces, on the 2004 and 2025 code lists),
read from indicators, which holds them, and cached like every indicators read."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from chiso_gateway.cache import Payload
from chiso_gateway.deps import IndicatorsReader
from chiso_gateway.envelope import Envelope
from chiso_gateway.respond import Language, cached, json_payload, language
from chiso_gateway.upstream import upstream_path
from chiso_shared.errors import problem_responses

router = APIRouter(prefix="/v1", tags=["areas"])

# Codes in examples are as indicators holds them (the GSO's `24`); they come from there as
# they are, never built or parsed here.
VERSION_EXAMPLES: list[dict[str, Any]] = [
    {
        "code_list": "2004",
        "name": "Bắc Giang",
        "name_vi": "Bắc Giang",
        "name_en": "Bac Giang",
        "valid_from": "2004-01-01",
        "valid_to": "2025-06-30",
        "successor": "24",
        "iso_3166_2": "VN-54",
    },
    {
        "code_list": "2025",
        "name": "Bắc Ninh",
        "name_vi": "Bắc Ninh",
        "name_en": "Bac Ninh",
        "valid_from": "2025-07-01",
        "valid_to": None,
        "successor": None,
        "iso_3166_2": None,
    },
]
AREA_EXAMPLE: dict[str, Any] = {
    "code": "24",
    "name": "Bắc Ninh",
    "name_vi": "Bắc Ninh",
    "name_en": "Bac Ninh",
    "level": "province",
    "code_list": "2025",
    "valid_from": "2004-01-01",
    "valid_to": None,
    "successor": None,
    "iso_3166_2": "VN-54",
    "predecessors": ["24", "27"],
    "versions": VERSION_EXAMPLES,
}


class AreaVersion(BaseModel):
    """What an area code named on one code list, and when."""

    code_list: str = Field(description="2004, 2025, or '' for the country.", examples=["2025"])
    name: str = Field(description="The name in the Accept-Language (Vietnamese by default).")
    name_vi: str
    name_en: str
    valid_from: date | None
    valid_to: date | None
    successor: str | None = Field(
        description="For a 2004-list province: the 2025-list code that took it over."
    )
    iso_3166_2: str | None = Field(
        default=None, description="ISO 3166-2 code of this version, where ISO has one."
    )


class Area(BaseModel):
    """An area code (the country, a province), named by its latest version, with every name
    it has had and the 2025 merger's mapping."""

    code: str = Field(description="The area's code, as every other answer writes it.")
    name: str = Field(description="The latest name in the Accept-Language.")
    name_vi: str
    name_en: str
    level: str = Field(examples=["province"])
    code_list: str = Field(description="The latest code list the code is on ('' for VN).")
    valid_from: date | None
    valid_to: date | None = Field(description="Set when the code ended (merged away in 2025).")
    successor: str | None = Field(description="The code that took this one over, if it ended.")
    iso_3166_2: str | None = Field(
        default=None,
        description="ISO 3166-2 code of its 2004-list version, where ISO has one. Not the same "
        "numbers: ISO's VN-01 is Lai Châu, the GSO's 01 is Hà Nội; never join ISO data on "
        "`code`.",
    )
    predecessors: list[str] = Field(
        description="The 2004-list codes merged into this 2025-list area (itself included)."
    )
    versions: list[AreaVersion]


class AreaList(Envelope[list[Area]]):
    """The areas, each code once."""


class AreaDetail(Envelope[Area]):
    """One area with its versions and merger mapping."""


def _named(row: dict[str, Any], lang: Language) -> dict[str, Any]:
    """The row (an area or a version of one) with `name` in the asked language."""
    return {"name": row.get(f"name_{lang}") or row.get("name_vi") or row.get("code"), **row}


def _area(row: dict[str, Any], lang: Language) -> dict[str, Any]:
    versions = [_named(version, lang) for version in row.get("versions") or []]
    return {**_named(row, lang), "versions": versions}


@router.get(
    "/areas",
    response_model=AreaList,
    summary="Areas: the country and the provinces of the 2004 and 2025 code lists",
    description="One entry per area code, named in the Accept-Language (`name`; both "
    "languages in `name_vi`, `name_en`), with every name it has had (`versions`). A code "
    "that outlived the 2025 merger has two versions; `predecessors` and `successor` give the "
    "merger's mapping. Filter with `code_list` and `on` (`code_list=2025`, or "
    "`on=2023-12-31` for the 63 provinces of that date).",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "data": [AREA_EXAMPLE],
                        "meta": {"count": 1, "data_revision": 12},
                        "links": {"self": "https://api.example/v1/areas?code_list=2025"},
                    }
                }
            }
        },
        **problem_responses(401, 403, 422, 429, 502, 504),
    },
)
async def list_areas(
    request: Request,
    reads: IndicatorsReader,
    code_list: Annotated[
        Literal["2004", "2025"] | None,
        Query(description="Only areas on this code list.", examples=["2025"]),
    ] = None,
    on: Annotated[
        date | None, Query(description="Only areas in force on this date.", examples=["2023-12-31"])
    ] = None,
) -> Response:
    lang = language(request)
    params = {name: str(value) for name, value in (("code_list", code_list), ("on", on)) if value}

    async def compute(current: int | None) -> Payload:
        rows = (await reads.indicators.request("GET", "/v1/areas", params=params)).json()
        data = [_area(row, lang) for row in rows]
        envelope: Envelope[list[dict[str, Any]]] = Envelope(
            data=data, meta={"count": len(data)}, links={"self": str(request.url)}
        )
        return json_payload(envelope, current)

    return await cached(request, reads, compute)


@router.get(
    "/areas/{code}",
    response_model=AreaDetail,
    summary="One area with its versions and the 2025 merger's mapping",
    description="An unknown code is 404 `indicators.unknown_area`.",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "data": AREA_EXAMPLE,
                        "meta": {"data_revision": 12},
                        "links": {"self": "https://api.example/v1/areas/24"},
                    }
                }
            }
        },
        **problem_responses(400, 401, 403, 404, 429, 502, 504),
    },
)
async def get_area(
    request: Request,
    reads: IndicatorsReader,
    code: Annotated[str, Path(max_length=16, examples=["24"])],
) -> Response:
    lang = language(request)

    async def compute(current: int | None) -> Payload:
        row = (await reads.indicators.request("GET", upstream_path("v1", "areas", code))).json()
        envelope: Envelope[dict[str, Any]] = Envelope(
            data=_area(row, lang), links={"self": str(request.url)}
        )
        return json_payload(envelope, current)

    return await cached(request, reads, compute)
