"""Request body limits, enforced while the body streams in.

Checking only a declared `Content-Length` let a `Transfer-Encoding: chunked` body through
whole: the gateway buffered it and forwarded it before ingest said 413. The shared
`BodyLimitMiddleware` counts the bytes of every request's body as the application reads them,
so the gateway never holds more than the limit plus one chunk and never forwards any of it.
These are the gateway's limits for it: the upload's for `POST /v1/documents`, a small one for
everything else (token and revoke forms, and bodies sent where none is read).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Scope

from chiso_gateway.settings import Settings
from chiso_shared.body_limit import upload_request_bytes

UPLOAD_PATH = "/v1/documents"


def upload_body_limit(settings: Settings) -> int:
    """Bytes an upload request may have (the same bound as ingest's default)."""
    return upload_request_bytes(settings.max_upload_bytes)


def gateway_limits(settings: Settings) -> Callable[[Scope], int]:
    upload = upload_body_limit(settings)

    def limit(scope: Scope) -> int:
        return upload if scope["path"] == UPLOAD_PATH else settings.max_body_bytes

    return limit
