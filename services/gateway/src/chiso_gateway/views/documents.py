"""/v1/documents: uploads, the list, status and the document view, forwarded to ingest."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from chiso_gateway.auth.tokens import Principal
from chiso_gateway.deps import IngestDep, SettingsDep, require
from chiso_gateway.envelope import Envelope, example
from chiso_gateway.fact_pages import decoded, fact_page
from chiso_gateway.people import people
from chiso_gateway.respond import json_payload
from chiso_gateway.settings import Settings
from chiso_gateway.upstream import upstream_path
from chiso_shared.catalogue import is_province, scope_of
from chiso_shared.errors import FieldError, PayloadTooLarge, Unprocessable, problem_responses
from chiso_shared.facts import FACT_EXAMPLE, Fact

router = APIRouter(prefix="/v1/documents", tags=["documents"])
Writer = Annotated[Principal, Depends(require("documents:write"))]
# the document list: those who upload, and those who review
Lister = Annotated[Principal, Depends(require("documents:write", "facts:review"))]
# the document view (text and facts): any reader of the data
Viewer = Annotated[
    Principal, Depends(require("indicators:read", "documents:write", "facts:review"))
]
META_FIELDS = ("title", "source_url", "published", "scope", "issuer")
DocumentId = Annotated[str, Path(max_length=36, examples=["6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10"])]

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
                            "examples": ["38"],
                            "description": "Area hint (`38`, `VN`, `iso:VN-21`) for a report "
                            "that names no province; without it, the area of the client's "
                            "agency.",
                        },
                        "issuer": {"type": "string"},
                    },
                    "description": "`uploaded_by` is set to the client's id, whatever is sent.",
                }
            },
            "application/json": {
                "schema": {"type": "object"},
                "example": {"filename": "bao-cao.txt", "text": "Năm 2023 ..."},
            },
        },
    }
}


class DocumentAccepted(Envelope[dict[str, Any]]):
    """An upload's answer: the document's id, status and the gateway's status URL."""


@router.post(
    "",
    status_code=202,
    response_model=DocumentAccepted,
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
                            "status_url": "https://lgsp.example.gov.vn/chiso/v1/documents/6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
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
    # It is uploaded by the client, whatever the body says. The body's size is limited as it
    # streams in (`chiso_shared.body_limit`), chunked or not.
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        response = await _forward_multipart(request, ingest, settings, principal)
    else:
        body = _with_uploader(await request.body(), principal)
        response = await ingest.request(
            "POST", "/v1/documents", content=body, headers={"content-type": content_type}
        )
    data = response.json()
    document_id = data.get("id")
    status = str(request.url_for("document_status", document_id=document_id))
    if "status_url" in data:
        # ingest names its own address (in Kubernetes http://ingest:8001/...), which no
        # outside caller can reach: the gateway is the one door, so it gives its own
        data["status_url"] = status
    return Envelope(data=data, links={"self": status})


def scope_hint(principal: Principal) -> str | None:
    """The province a client's upload is filed under when the text names none: its agency's
    area if that is a province. A national agency (area `VN`) gives no hint: a provincial
    report it sends that names no province is of unknown scope, never the country's."""
    area = principal.area
    return scope_of(area) if is_province(area) else None


def _with_uploader(body: bytes, principal: Principal) -> bytes:
    """The JSON upload with `uploaded_by` set to the client and `scope` to its area where it
    gives none; anything that is not a JSON object goes on as it came (ingest answers it)."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    if not isinstance(document, dict):
        return body
    document["uploaded_by"] = principal.client_id
    hint = scope_hint(principal)
    if hint and document.get("scope") in (None, ""):
        document["scope"] = hint
    return json.dumps(document, ensure_ascii=False).encode()


async def _forward_multipart(
    request: Request, ingest: IngestDep, settings: SettingsDep, principal: Principal
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
        hint = scope_hint(principal)
        if hint and not fields.get("scope"):
            fields["scope"] = hint
        fields["uploaded_by"] = principal.client_id
        files = {"file": (upload.filename or "document", content, upload.content_type or "")}
    return await ingest.request("POST", "/v1/documents", files=files, data=fields)


class DocumentStatus(Envelope[dict[str, Any]]):
    """A document's processing status."""


@router.get(
    "/{document_id}",
    response_model=DocumentStatus,
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
    document_id: DocumentId,
) -> Envelope[dict[str, Any]]:
    response = await ingest.request("GET", upstream_path("v1", "documents", document_id))
    return Envelope(data=response.json(), links={"self": str(request.url)})


LIST_EXAMPLE = {
    "data": [
        {
            "id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
            "filename": "thanh-hoa-2023.docx",
            "title": "Báo cáo tổng kết năm 2023",
            "status": "delivered",
            "fact_count": 96,
            "reviewed_count": 3,
            "uploaded_by": "ch_3f9a1c",
            "scope": "VN-38",
            "published": "2023-12-20",
            "extractor_version": "0.8.0",
            "created_at": "2026-11-26T08:00:00Z",
            "updated_at": "2026-11-26T08:00:03Z",
        }
    ],
    "meta": {"count": 1, "next_cursor": None, "people": {"ch_3f9a1c": "Nguyễn Văn An"}},
    "links": {"self": "https://api.example/v1/documents?limit=50", "next": None},
}


class DocumentPage(Envelope[list[dict[str, Any]]]):
    """A page of documents, newest first."""


@router.get(
    "",
    response_model=DocumentPage,
    summary="Documents, newest first: status, fact counts, who uploaded them and when",
    description="Needs `documents:write` or `facts:review`. `meta.next_cursor` (and "
    "`links.next`) give the next page. `uploaded_by` is the uploader's client id; "
    "`meta.people` maps each such id to the client's name (an id no longer registered is "
    "left out).",
    responses={**example(LIST_EXAMPLE), **problem_responses(400, 401, 403, 422, 429, 502, 504)},
)
async def list_documents(
    request: Request,
    ingest: IngestDep,
    _principal: Lister,
    limit: Annotated[int | None, Query(ge=1, le=500, examples=[50])] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    status: Annotated[
        Literal["queued", "extracting", "extracted", "delivered", "failed"] | None,
        Query(examples=["delivered"]),
    ] = None,
) -> Envelope[list[dict[str, Any]]]:
    params = {"limit": limit, "cursor": cursor, "status": status}
    response = await ingest.request("GET", "/v1/documents", params=_given(params))
    envelope = paged(request, response.json())
    envelope.meta["people"] = await people(request, envelope.data)
    return envelope


def _given(params: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


def paged(request: Request, page: dict[str, Any]) -> Envelope[list[dict[str, Any]]]:
    """An upstream page (`items`, `next_cursor`) in the envelope, with a link to the next."""
    next_cursor = page.get("next_cursor")
    next_link = str(request.url.include_query_params(cursor=next_cursor)) if next_cursor else None
    return Envelope(
        data=page["items"],
        meta={"count": len(page["items"]), "next_cursor": next_cursor},
        links={"self": str(request.url), "next": next_link},
    )


VIEW_EXAMPLE = {
    "data": {
        "document": {
            "id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
            "filename": "thanh-hoa-2023.txt",
            "title": "Báo cáo tổng kết năm 2023",
            "status": "delivered",
            "published": "2023-12-20",
            "scope": "VN-38",
            "extractor_version": "0.8.0",
            "uploaded_by": "ch_3f9a1c",
            "created_at": "2026-11-26T08:00:00Z",
        },
        "text": "Tổng số thuê bao trên toàn mạng ước đạt 2.980.000 thuê bao.",
        "facts": [
            {
                **FACT_EXAMPLE,
                "start": 40,
                "end": 49,
                "doubts": [],
                "confidence": 1.0,
                "review": {"action": "accept", "by": "ch_3f9a1c", "at": "2026-12-07T09:30:00Z"},
            }
        ],
    },
    "meta": {"fact_count": 1, "people": {"ch_3f9a1c": "Nguyễn Văn An"}},
    "links": {"self": "https://api.example/v1/documents/6f1c0b9e-.../view"},
}
VIEW_FIELDS = (
    "id",
    "filename",
    "title",
    "status",
    "published",
    "scope",
    "extractor_version",
    "uploaded_by",
    "created_at",
)


class DocumentView(Envelope[dict[str, Any]]):
    """A document to read: its text and every fact in it."""


@router.get(
    "/{document_id}/view",
    response_model=DocumentView,
    summary="A document to read: its text and every fact in it, with reviews applied",
    description="Needs `indicators:read`, `documents:write` or `facts:review`. Each fact's "
    "`start`..`end` are offsets into `text`; `review` is null for the extractor's reading. "
    "`meta.people` maps the client ids of the uploader and the reviewers to their names.",
    responses={**example(VIEW_EXAMPLE), **problem_responses(400, 401, 403, 404, 429, 502, 504)},
)
async def document_view(
    request: Request, ingest: IngestDep, _principal: Viewer, document_id: DocumentId
) -> Envelope[dict[str, Any]]:
    path = upstream_path("v1", "documents", document_id)
    status = (await ingest.request("GET", path)).json()  # 404 before the other two calls
    text, facts = await asyncio.gather(
        ingest.request("GET", path + "/text"), ingest.request("GET", path + "/facts")
    )
    effective = [{**fact, "review": fact.get("review")} for fact in facts.json()["facts"]]
    document = {name: status.get(name) for name in VIEW_FIELDS}
    return Envelope(
        data={"document": document, "text": text.content.decode("utf-8"), "facts": effective},
        meta={
            "fact_count": len(effective),
            "people": await people(request, {"document": document, "facts": effective}),
        },
        links={"self": str(request.url)},
    )


class DocumentFactsPage(Envelope[list[Fact]]):
    """A page of a document's facts, in text order."""


FACTS_EXAMPLE = {
    "data": [
        {
            **FACT_EXAMPLE,
            "doubts": [],
            "confidence": 1.0,
            "review": {"action": "accept", "by": "ch_3f9a1c", "at": "2026-12-07T09:30:00Z"},
        }
    ],
    "meta": {
        "document_id": "6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10",
        "extractor_version": "0.8.0",
        "count": 1,
        "total": 96,
        "next_cursor": "WzExODAsMTE4OSwwXQ",
        "people": {"ch_3f9a1c": "Nguyễn Văn An"},
    },
    "links": {
        "self": "https://api.example/v1/documents/6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10/facts"
        "?limit=1",
        "next": "https://api.example/v1/documents/6f1c0b9e-3a52-4d1e-9a57-0d6b1c2e7a10/facts"
        "?limit=1&cursor=WzExODAsMTE4OSwwXQ",
    },
}


@router.get(
    "/{document_id}/facts",
    response_model=DocumentFactsPage,
    summary="A document's facts, in pages: the extractor's reading with reviews applied",
    description="Needs `indicators:read`, `documents:write` or `facts:review`, as the "
    "document view. Facts come in text order (`start`, `end`), each as the extraction "
    "contract has it (`scope` is the fact's own area field); a fact a person reviewed "
    "carries `review`, a rejected one is left out. `meta.total` is how many facts the "
    'document has, `meta.next_cursor` and `links.next` (also a `Link: rel="next"` header) '
    "give the next page; `meta.people` maps the reviewers' client ids to their names.",
    responses={
        200: {
            "content": {"application/json": {"example": FACTS_EXAMPLE}},
            "headers": {
                "Link": {
                    "description": 'The next page, `<url>; rel="next"` (absent on the last).',
                    "schema": {"type": "string"},
                }
            },
        },
        **problem_responses(400, 401, 403, 404, 422, 429, 502, 504),
    },
)
async def document_facts(
    request: Request,
    ingest: IngestDep,
    settings: SettingsDep,
    _principal: Viewer,
    document_id: DocumentId,
    limit: Annotated[int | None, Query(ge=1, examples=[100])] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    size = _facts_limit(limit, settings)
    position = decoded(cursor)  # a bad cursor is refused before any upstream call
    path = upstream_path("v1", "documents", document_id, "facts")
    answer = (await ingest.request("GET", path)).json()
    facts, next_cursor = fact_page(answer["facts"], size, position)
    next_link = str(request.url.include_query_params(cursor=next_cursor)) if next_cursor else None
    meta = {
        "document_id": answer.get("document_id", document_id),
        "extractor_version": answer.get("extractor_version"),
        "count": len(facts),
        "total": len(answer["facts"]),
        "next_cursor": next_cursor,
        "people": await people(request, facts),
    }
    envelope: Envelope[list[dict[str, Any]]] = Envelope(
        data=facts, meta=meta, links={"self": str(request.url), "next": next_link}
    )
    payload = json_payload(envelope, None)
    headers = {"Link": f'<{next_link}>; rel="next"'} if next_link else {}
    return Response(payload.body, media_type=payload.media_type, headers=headers)


def _facts_limit(limit: int | None, settings: Settings) -> int:
    """The page size asked, or the default; 422 above DOCUMENT_FACTS_MAX_PAGE_SIZE."""
    most = settings.document_facts_max_page_size
    if limit is None:
        return min(settings.document_facts_page_size, most)
    if limit > most:
        raise Unprocessable(
            f"limit may be at most {most}. / limit tối đa là {most}.",
            code="gateway.invalid",
            errors=[FieldError(field="query.limit", message=f"at most {most}")],
        )
    return limit
