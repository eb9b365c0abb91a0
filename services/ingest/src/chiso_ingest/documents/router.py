"""/v1/documents: upload (JSON or multipart), status, facts and normalised text."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from chiso_ingest import extraction
from chiso_ingest.deps import ReadersDep, SessionDep, SettingsDep
from chiso_ingest.documents import service
from chiso_ingest.documents.schemas import (
    DocumentAccepted,
    DocumentFacts,
    DocumentIn,
    DocumentLayout,
    DocumentList,
    DocumentMetadata,
    DocumentOut,
    DocumentStatus,
    DocumentSummary,
    LayoutRegion,
    Reextraction,
)
from chiso_ingest.formats import media_type_of, read_document
from chiso_ingest.paging import page_size
from chiso_ingest.reviews.service import effective_facts, reviewed_counts
from chiso_ingest.settings import Settings, limits_of
from chiso_shared.errors import (
    BadRequest,
    FieldError,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
    problem_responses,
)
from chiso_shared.facts import Fact
from chiso_shared.input_guard import NUL

router = APIRouter(prefix="/v1/documents", tags=["documents"])

DocumentId = Annotated[str, Path(max_length=36, examples=["2f0c3e1a-7d4b-4c55-9a43-1b2f5e6d7c8a"])]

# The body is read by hand (JSON or multipart), so FastAPI does not list DocumentIn among the
# components; its schema is written inline here rather than referenced, so no $ref dangles.
UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string"},
                        "source_url": {"type": "string"},
                        "published": {"type": "string", "examples": ["2023-12-25"]},
                        "scope": {"type": "string", "examples": ["VN-38"]},
                        "issuer": {"type": "string"},
                        "uploaded_by": {"type": "string", "examples": ["ch_3f9a1c"]},
                    },
                }
            },
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=DocumentAccepted,
    summary="Upload a document for extraction",
    openapi_extra=UPLOAD_OPENAPI,
    responses=problem_responses(400, 413, 415, 422),
)
async def upload(
    request: Request, session: SessionDep, settings: SettingsDep, readers: ReadersDep
) -> DocumentAccepted:
    # The request's size, declared or chunked, is capped while it streams (BodyLimitMiddleware).
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        content, filename, media, metadata = await _from_multipart(request, settings)
    elif content_type in ("application/json", ""):
        content, filename, media, metadata = await _from_json(request)
    else:
        raise UnsupportedMediaType(
            "Send the document as multipart/form-data (field `file`) or as JSON.",
            code="ingest.unsupported_request_type",
        )
    if len(content) > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"The document is {len(content)} bytes; the limit is {settings.max_upload_bytes}.",
            code="ingest.too_large",
        )
    parsed = await read_document(
        content,
        media,
        limits_of(settings),
        settings.accepted_media_types,
        sandbox=readers,
    )
    document, duplicate = await service.accept(
        session,
        parsed=parsed,
        filename=filename,
        media_type=media,
        size_bytes=len(content),
        metadata=metadata,
    )
    return DocumentAccepted(
        id=document.id,
        status=document.status,
        status_url=str(request.url_for("get_document", document_id=document.id)),
        duplicate=duplicate,
    )


async def _from_multipart(
    request: Request, settings: Settings
) -> tuple[bytes, str, str, DocumentMetadata]:
    limits = {"max_files": 1, "max_fields": 20, "max_part_size": settings.max_upload_bytes}
    async with request.form(**limits) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Unprocessable(
                "The multipart body needs a file in the field `file`.",
                code="ingest.missing_file",
                errors=[FieldError(field="body.file", message="required")],
            )
        content = await upload.read(settings.max_upload_bytes + 1)
        fields = {key: value for key, value in form.items() if isinstance(value, str) and value}
    metadata = _validated(DocumentMetadata, fields)
    filename = upload.filename or "document"
    if NUL in filename:
        raise Unprocessable(
            "The file name contains the NUL character.",
            code="ingest.invalid",
            errors=[FieldError(field="body.file.filename", message="contains NUL")],
        )
    return content, filename, media_type_of(upload.content_type, filename), metadata


async def _from_json(request: Request) -> tuple[bytes, str, str, DocumentMetadata]:
    try:
        payload = await request.json()
    except ValueError as exc:
        raise BadRequest("The body is not valid JSON.", code="ingest.bad_json") from exc
    document = _validated(DocumentIn, payload)
    if (document.text is None) == (document.content_base64 is None):
        raise Unprocessable(
            "Give exactly one of `text` and `content_base64`.",
            code="ingest.invalid",
            errors=[FieldError(field="body.text", message="text or content_base64")],
        )
    if document.text is not None:
        content = document.text.encode("utf-8")
        media = "text/plain"
    else:
        try:
            content = base64.b64decode(document.content_base64 or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Unprocessable(
                "content_base64 is not valid base64.",
                code="ingest.invalid",
                errors=[FieldError(field="body.content_base64", message="not base64")],
            ) from exc
        media = media_type_of(document.media_type, document.filename)
    metadata = DocumentMetadata.model_validate(document.model_dump(include=_META_FIELDS))
    return content, document.filename, media, metadata


_META_FIELDS = set(DocumentMetadata.model_fields)


M = TypeVar("M", bound=DocumentMetadata)


def _validated(model: type[M], payload: Any) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        errors = [
            FieldError(field="body." + ".".join(str(p) for p in err["loc"]), message=err["msg"])
            for err in exc.errors()
        ]
        raise Unprocessable(
            "The document's fields are not valid.", code="ingest.invalid", errors=errors
        ) from exc


@router.get(
    "",
    response_model=DocumentList,
    summary="Documents, newest first, with their status and how many facts were reviewed",
    responses=problem_responses(400, 422),
)
async def list_documents(
    session: SessionDep,
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, examples=[50])] = None,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    status: Annotated[DocumentStatus | None, Query(examples=["delivered"])] = None,
) -> DocumentList:
    size = page_size(limit, settings)
    documents, next_cursor = await service.newest(session, limit=size, cursor=cursor, status=status)
    counts = await reviewed_counts(session, [document.id for document in documents])
    return DocumentList(
        items=[
            DocumentSummary(
                id=document.id,
                filename=document.filename,
                title=document.title,
                status=document.status,
                fact_count=document.fact_count,
                reviewed_count=counts.get(document.id, 0),
                uploaded_by=document.uploaded_by,
                scope=document.scope,
                published=document.published,
                extractor_version=document.extractor_version,
                created_at=document.created_at,
                updated_at=document.updated_at,
            )
            for document in documents
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/reextract",
    status_code=202,
    response_model=Reextraction,
    summary="Re-extract every document an older extractor version read",
)
async def reextract_all(session: SessionDep) -> Reextraction:
    version = extraction.EXTRACTOR_VERSION
    queued = await service.reextract(session, version)
    return Reextraction(extractor_version=version, queued=queued)


@router.post(
    "/{document_id}/reextract",
    status_code=202,
    response_model=Reextraction,
    summary="Re-extract one document if an older extractor version read it",
    responses=problem_responses(404),
)
async def reextract_one(session: SessionDep, document_id: DocumentId) -> Reextraction:
    await service.get(session, document_id)
    version = extraction.EXTRACTOR_VERSION
    queued = await service.reextract(session, version, document_id)
    return Reextraction(extractor_version=version, queued=queued)


@router.get(
    "/{document_id}",
    response_model=DocumentOut,
    summary="A document's status",
    responses=problem_responses(404),
)
async def get_document(
    session: SessionDep, settings: SettingsDep, document_id: DocumentId
) -> DocumentOut:
    document = await service.get(session, document_id)
    job = await service.latest_job(session, document, settings.max_job_attempts)
    return service.to_out(document, job)


@router.get(
    "/{document_id}/facts",
    response_model=DocumentFacts,
    summary="The facts of a document, with spans: the extractor's, with reviews applied",
    responses=problem_responses(404),
)
async def get_facts(session: SessionDep, document_id: DocumentId) -> DocumentFacts:
    document = await service.get(session, document_id)
    facts = await effective_facts(session, document)
    return DocumentFacts(
        document_id=document.id,
        extractor_version=document.extractor_version,
        facts=[Fact.model_validate(data) for data in facts],
    )


@router.get(
    "/{document_id}/text",
    response_class=PlainTextResponse,
    summary="The normalised text that fact offsets refer to",
    responses={
        200: {
            "content": {
                "text/plain": {"example": "Tổng số thuê bao điện thoại ước đạt 2.980.000 thuê bao."}
            }
        },
        **problem_responses(404),
    },
)
async def get_text(session: SessionDep, document_id: DocumentId) -> PlainTextResponse:
    document = await service.get(session, document_id)
    return PlainTextResponse(document.text)


@router.get(
    "/{document_id}/layout",
    response_model=DocumentLayout,
    summary="Where stretches of the text came from: table cells of a DOCX, pages of a PDF",
    responses=problem_responses(404),
)
async def get_layout(session: SessionDep, document_id: DocumentId) -> DocumentLayout:
    document = await service.get(session, document_id)
    return DocumentLayout(
        document_id=document.id,
        regions=[LayoutRegion.model_validate(region) for region in document.layout or []],
    )
