"""/v1/documents: uploads and status, forwarded to ingest."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.datastructures import UploadFile

from chiso_gateway.auth.tokens import Principal
from chiso_gateway.deps import IngestDep, SettingsDep, require
from chiso_gateway.envelope import Envelope, example
from chiso_gateway.upstream import upstream_path
from chiso_shared.errors import PayloadTooLarge, Unprocessable, problem_responses

router = APIRouter(prefix="/v1/documents", tags=["documents"])
Writer = Annotated[Principal, Depends(require("documents:write"))]
META_FIELDS = ("title", "source_url", "published", "scope", "issuer")

UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string"},
                        "source_url": {"type": "string"},
                        "published": {"type": "string", "examples": ["2023-12-25"]},
                        "scope": {
                            "type": "string",
                            "examples": ["VN-38"],
                            "description": "Area hint (VN or VN-xx) for a report that names "
                            "no province; without it, the area of the client's agency.",
                        },
                        "issuer": {"type": "string"},
                    },
                }
            },
            "application/json": {
                "schema": {"type": "object"},
                "example": {"filename": "bao-cao.txt", "text": "Năm 2023 ..."},
            },
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=Envelope[dict[str, Any]],
    summary="Upload a report (multipart field `file`, or JSON as ingest takes it)",
    openapi_extra=UPLOAD_OPENAPI,
    responses={
        202: {
            "content": {
                "application/json": {
                    "example": {
                        "data": {
                            "id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                            "status": "queued",
                            "status_url": "http://ingest:8001/v1/documents/6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
                            "duplicate": False,
                        },
                        "meta": {},
                        "links": {
                            "self": "https://lgsp.example.gov.vn/chiso/v1/documents/6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10"
                        },
                    }
                }
            }
        },
        # 400: ingest's answer to a body it cannot parse, passed on.
        **problem_responses(400, 401, 403, 413, 415, 422, 502, 504),
    },
)
async def upload(
    request: Request, ingest: IngestDep, settings: SettingsDep, principal: Writer
) -> Envelope[dict[str, Any]]:
    # An upload without a `scope` takes the area of the client's agency, if it has one: a
    # provincial report that names no province is then that province's, not of unknown scope.
    # The body's size is limited as it streams in (`chiso_shared.body_limit`), chunked or not.
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        response = await _forward_multipart(request, ingest, settings, principal.area)
    else:
        body = _with_scope(await request.body(), principal.area)
        response = await ingest.request(
            "POST", "/v1/documents", content=body, headers={"content-type": content_type}
        )
    data = response.json()
    document_id = data.get("id")
    return Envelope(
        data=data,
        links={"self": str(request.url_for("document_status", document_id=document_id))},
    )


def _with_scope(body: bytes, area: str) -> bytes:
    """The JSON upload with `scope` set to `area` where it gives none; anything that is not
    a JSON object goes on as it came (ingest answers it)."""
    if not area:
        return body
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict) or document.get("scope") not in (None, ""):
        return body
    return json.dumps({**document, "scope": area}, ensure_ascii=False).encode()


async def _forward_multipart(
    request: Request, ingest: IngestDep, settings: SettingsDep, area: str
) -> Any:
    limits = {"max_files": 1, "max_fields": 20, "max_part_size": settings.max_upload_bytes}
    async with request.form(**limits) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Unprocessable(
                "The multipart body needs the field `file`.", code="gateway.missing_file"
            )
        content = await upload.read(settings.max_upload_bytes + 1)
        if len(content) > settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"Documents may be {settings.max_upload_bytes} bytes.", code="gateway.too_large"
            )
        fields = {name: value for name in META_FIELDS if isinstance(value := form.get(name), str)}
        if area and not fields.get("scope"):
            fields["scope"] = area
        files = {"file": (upload.filename or "document", content, upload.content_type or "")}
    return await ingest.request("POST", "/v1/documents", files=files, data=fields)


@router.get(
    "/{document_id}",
    response_model=Envelope[dict[str, Any]],
    summary="A document's processing status",
    responses={
        **example(
            {
                "data": {"id": "9b2f6c1e-0000-4000-8000-000000000000", "status": "delivered"},
                "meta": {},
                "links": {"self": "https://api.example/v1/documents/9b2f6c1e-..."},
            }
        ),
        **problem_responses(400, 401, 403, 404, 429, 502, 504),
    },
)
async def document_status(
    request: Request,
    ingest: IngestDep,
    _principal: Writer,
    document_id: Annotated[str, Path(max_length=36)],
) -> Envelope[dict[str, Any]]:
    response = await ingest.request("GET", upstream_path("v1", "documents", document_id))
    return Envelope(data=response.json(), links={"self": str(request.url)})
