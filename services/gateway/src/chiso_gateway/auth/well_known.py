"""What other systems need to verify the gateway's tokens without asking it: the JWKS
(RFC 7517) and the OAuth 2.0 authorization server metadata (RFC 8414). Public: no token, no
quota."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from chiso_gateway.auth.clients import SCOPES
from chiso_gateway.auth.keys import KeyRing
from chiso_gateway.deps import SettingsDep

router = APIRouter(tags=["auth"])

JWK_EXAMPLE: dict[str, Any] = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
    "alg": "EdDSA",
    "use": "sig",
}


class JsonWebKey(BaseModel):
    """A public key of the gateway (RFC 7517): Ed25519 (`kty` OKP) or RSA; `kid` is its RFC
    7638 thumbprint, the `kid` in the header of the tokens it signs."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [JWK_EXAMPLE]})

    kty: str
    kid: str
    alg: str
    use: str = "sig"


class JsonWebKeySet(BaseModel):
    """Every key whose tokens may still be in use: the signing key, a key published ahead of
    signing, and retired keys until their last tokens expire."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"keys": [JWK_EXAMPLE]}]})

    keys: list[JsonWebKey]


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 metadata: where tokens come from and how to verify them."""

    issuer: str = Field(examples=["https://api.example.gov.vn"])
    token_endpoint: str = Field(examples=["https://api.example.gov.vn/oauth2/token"])
    jwks_uri: str = Field(examples=["https://api.example.gov.vn/.well-known/jwks.json"])
    revocation_endpoint: str = Field(examples=["https://api.example.gov.vn/oauth2/revoke"])
    grant_types_supported: list[str] = Field(examples=[["client_credentials"]])
    response_types_supported: list[str] = Field(
        examples=[[]], description="Empty: no authorization endpoint, only client credentials."
    )
    token_endpoint_auth_methods_supported: list[str] = Field(
        examples=[["client_secret_basic", "client_secret_post"]]
    )
    revocation_endpoint_auth_methods_supported: list[str] = Field(
        examples=[["client_secret_basic", "client_secret_post"]]
    )
    scopes_supported: list[str] = Field(examples=[["indicators:read", "documents:write"]])
    service_documentation: str = Field(examples=["https://api.example.gov.vn/docs"])


def _cached(body: dict[str, Any], max_age: int) -> JSONResponse:
    return JSONResponse(body, headers={"Cache-Control": f"public, max-age={max_age}"})


@router.get(
    "/.well-known/jwks.json",
    response_model=JsonWebKeySet,
    summary="The public keys of the gateway's access tokens (JWKS)",
    description=(
        "Verify a token's signature with the key whose `kid` its header names. Cached for"
        " `JWKS_MAX_AGE_SECONDS`; a new key is published `JWT_KEY_PUBLISH_AHEAD_SECONDS`"
        " before it signs, so fetch again when a token names a `kid` you do not hold."
    ),
)
async def jwks(request: Request, settings: SettingsDep) -> JSONResponse:
    ring = cast(KeyRing | None, request.state.key_ring)
    body = ring.jwks() if ring is not None else {"keys": []}
    return _cached(body, settings.jwks_max_age_seconds)


@router.get(
    "/.well-known/oauth-authorization-server",
    response_model=AuthorizationServerMetadata,
    response_model_exclude_none=True,
    summary="OAuth 2.0 authorization server metadata (RFC 8414)",
)
async def metadata(request: Request, settings: SettingsDep) -> JSONResponse:
    base = settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    methods = ["client_secret_basic", "client_secret_post"]
    body = AuthorizationServerMetadata(
        issuer=settings.issuer(),
        token_endpoint=f"{base}/oauth2/token",
        jwks_uri=f"{base}/.well-known/jwks.json",
        revocation_endpoint=f"{base}/oauth2/revoke",
        grant_types_supported=["client_credentials"],
        response_types_supported=[],
        token_endpoint_auth_methods_supported=methods,
        revocation_endpoint_auth_methods_supported=methods,
        scopes_supported=list(SCOPES),
        service_documentation=f"{base}/docs",
    )
    return _cached(body.model_dump(exclude_none=True), settings.jwks_max_age_seconds)
