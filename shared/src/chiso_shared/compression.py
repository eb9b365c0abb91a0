"""gzip for clients that ask for it (`Accept-Encoding: gzip`), with Starlette's middleware.

Starlette's GZipMiddleware compresses a streamed answer chunk by chunk as it is sent (it stays
streamed), leaves alone answers that already carry a Content-Encoding and adds
`Vary: Accept-Encoding`.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from chiso_shared.settings import ServiceSettings


def install_gzip(app: FastAPI, settings: ServiceSettings) -> None:
    """Compress `app`'s answers of at least `settings.gzip_min_bytes`. Add it last, so that
    it is the outermost middleware and every answer passes through it, problems included."""
    app.add_middleware(
        GZipMiddleware, minimum_size=settings.gzip_min_bytes, compresslevel=settings.gzip_level
    )
