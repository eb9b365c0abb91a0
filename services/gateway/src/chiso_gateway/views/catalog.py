"""/v1/catalog: the services this gateway offers, their versions, scopes and OpenAPI links."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from chiso_gateway import __version__
from chiso_gateway.auth.clients import SCOPES
from chiso_gateway.auth.tokens import Principal
from chiso_gateway.deps import SettingsDep, require
from chiso_gateway.envelope import Envelope
from chiso_gateway.respond import language
from chiso_shared.errors import problem_responses

router = APIRouter(prefix="/v1", tags=["catalog"])
CatalogReader = Annotated[Principal, Depends(require("catalog:read"))]

# (service code, scope, Vietnamese name, English name, endpoints)
SERVICES: tuple[tuple[str, str, str, str, tuple[tuple[str, str], ...]], ...] = (
    (
        "CHISO.CATALOG",
        "catalog:read",
        "Danh mục dịch vụ",
        "Service catalogue",
        (("GET", "/v1/catalog"),),
    ),
    (
        "CHISO.INDICATOR.CATALOGUE",
        "indicators:read",
        "Danh mục chỉ số và địa bàn",
        "Indicator and area catalogue",
        (
            ("GET", "/v1/indicators"),
            ("GET", "/v1/indicators/{code}"),
            ("GET", "/v1/areas"),
            ("GET", "/v1/areas/{code}"),
        ),
    ),
    (
        "CHISO.INDICATOR.SERIES",
        "indicators:read",
        "Chuỗi số liệu chỉ số",
        "Indicator series and observations",
        (("GET", "/v1/indicators/{code}/series"), ("GET", "/v1/observations")),
    ),
    (
        "CHISO.INDICATOR.VIEWS",
        "indicators:read",
        "Tóm tắt và so sánh theo tỉnh",
        "Province summaries and comparisons",
        (("GET", "/v1/areas/{code}/summary"), ("GET", "/v1/compare")),
    ),
    (
        "CHISO.INDICATOR.STANDARDS",
        "indicators:read",
        "Số liệu theo chuẩn SDMX và DHIS2",
        "SDMX and DHIS2 reads",
        (
            ("GET", "/sdmx/2.1/dataflow/{agency}/{resource_id}/{version}"),
            ("GET", "/sdmx/2.1/datastructure/{agency}/{resource_id}/{version}"),
            ("GET", "/sdmx/2.1/codelist/{agency}/{resource_id}/{version}"),
            ("GET", "/sdmx/2.1/conceptscheme/{agency}/{resource_id}/{version}"),
            ("GET", "/sdmx/2.1/data/{flow}/{key}"),
            ("GET", "/sdmx/2.1/availableconstraint/{flow}/{key}/{provider}/{component_id}"),
            ("GET", "/dhis2/api/dataValueSets"),
            ("GET", "/dhis2/api/dataElements"),
            ("GET", "/dhis2/api/organisationUnits"),
            ("GET", "/dhis2/api/categoryCombos"),
            ("GET", "/dhis2/api/categoryOptionCombos"),
            ("GET", "/dhis2/api/dataSets"),
        ),
    ),
    (
        "CHISO.DOCUMENTS",
        "documents:write",
        "Tiếp nhận báo cáo",
        "Report upload and status",
        (
            ("POST", "/v1/documents"),
            ("GET", "/v1/documents/{document_id}"),
            ("GET", "/v1/documents/{document_id}/facts"),
        ),
    ),
    (
        "CHISO.AUDIT",
        "audit:read",
        "Nhật ký truy cập",
        "Audit log",
        (("GET", "/v1/audit"), ("GET", "/v1/audit/verify")),
    ),
    (
        "CHISO.ADMIN.CLIENTS",
        "clients:admin",
        "Quản lý client API",
        "API client administration",
        (
            ("POST", "/v1/admin/clients"),
            ("GET", "/v1/admin/clients"),
            ("GET", "/v1/admin/clients/{client_id}"),
            ("PATCH", "/v1/admin/clients/{client_id}"),
            ("POST", "/v1/admin/clients/{client_id}/rotate-secret"),
            ("POST", "/v1/admin/clients/{client_id}/revoke"),
        ),
    ),
)


class ServiceCatalog(Envelope[list[dict[str, Any]]]):
    """The services this gateway offers."""


@router.get(
    "/catalog",
    response_model=ServiceCatalog,
    summary="The services offered: versions, scopes, endpoints and OpenAPI links",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "data": [
                            {
                                "service_code": "CHISO.INDICATOR.SERIES",
                                "version": "1.0",
                                "status": "active",
                                "name": "Indicator series and observations",
                                "scopes": ["indicators:read"],
                                "endpoints": [{"method": "GET", "path": "/v1/observations"}],
                                "openapi_url": "https://api.example/openapi.json",
                                "allowed": True,
                            }
                        ],
                        "meta": {"gateway_version": "0.1.0", "count": 1},
                        "links": {"self": "https://api.example/v1/catalog"},
                    }
                }
            }
        },
        **problem_responses(401, 403, 429),
    },
)
async def catalog(
    request: Request,
    settings: SettingsDep,
    principal: CatalogReader,
    allowed: Annotated[bool, Query(description="Only what the caller's token may use.")] = False,
) -> Envelope[list[dict[str, Any]]]:
    lang = language(request)
    openapi = str(request.base_url).rstrip("/") + "/openapi.json"
    rows = [
        {
            "service_code": code,
            "version": "1.0",
            "status": "active",
            "name": name_vi if lang == "vi" else name_en,
            "name_vi": name_vi,
            "name_en": name_en,
            "scopes": [scope],
            "scope_description": SCOPES[scope],
            "endpoints": [{"method": method, "path": path} for method, path in endpoints],
            "openapi_url": openapi,
            "allowed": scope in principal.scopes,
        }
        for code, scope, name_vi, name_en, endpoints in SERVICES
    ]
    if allowed:
        rows = [row for row in rows if row["allowed"]]
    meta = {
        "gateway_version": __version__,
        "api_version": "1.0",
        "count": len(rows),
        "token_endpoint": "/oauth2/token",
        "revocation_endpoint": "/oauth2/revoke",
        "tiers": settings.quota_tiers,
    }
    return Envelope(data=rows, meta=meta, links={"self": str(request.url), "openapi": openapi})
