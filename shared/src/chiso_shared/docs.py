"""Self-hosted API docs: Swagger UI at /docs and ReDoc at /redoc, with no outside request.

FastAPI's own docs pages load their scripts from a CDN (and ReDoc its fonts from Google), so
they stay blank on a provincial network without Internet access. Every service builds its app
with `docs_url=None, redoc_url=None` and calls `install_docs`, which serves the same pages with
the scripts, stylesheet and icon vendored into this package (`static/docs/`, written by
`scripts/vendor-assets` from pinned, integrity-checked npm tarballs) under `/static/docs/`.

The pages and assets are public, like `/openapi.json`: no router dependency (service token,
OAuth2 scope, quota) covers them.
"""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

STATIC_PATH = "/static/docs"
SWAGGER_JS = "swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui/swagger-ui.css"
FAVICON = "swagger-ui/favicon-32x32.png"
REDOC_JS = "redoc/redoc.standalone.js"
DOCS_PATH = "/docs"
OAUTH2_REDIRECT_PATH = "/docs/oauth2-redirect"
REDOC_PATH = "/redoc"

# Content types by suffix, registered here because `mimetypes` reads them from the host's
# /etc/mime.types first: a slim image without it would serve the bundle as text/plain (or, on
# Python 3.11, .js as application/javascript), and browsers refuse a script or a font served
# with the wrong type once `X-Content-Type-Options: nosniff` is set by a proxy.
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".json": "application/json",
}

# Swagger UI shows a badge fetched from validator.swagger.io for a spec served from a public
# host; the docs must ask nothing of the Internet.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def register_content_types() -> None:
    for suffix, content_type in CONTENT_TYPES.items():
        mimetypes.add_type(content_type, suffix)


def docs_assets() -> StaticFiles:
    """The vendored docs assets, read from the installed `chiso_shared` package."""
    register_content_types()
    return StaticFiles(packages=[("chiso_shared", "static/docs")])


def install_docs(app: FastAPI) -> None:
    """Serve /docs, /docs/oauth2-redirect, /redoc and /static/docs/ from the package.

    The app must be built with `docs_url=None, redoc_url=None`: FastAPI's own pages would
    otherwise answer first, with their CDN links.
    """
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("build the app with docs_url=None, redoc_url=None before install_docs")
    if app.openapi_url is None:
        return  # no OpenAPI document, nothing to show
    app.mount(STATIC_PATH, docs_assets(), name="docs-static")
    app.include_router(_docs_router(app.title, app.openapi_url))


def _docs_router(title: str, openapi_url: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get(DOCS_PATH)
    async def swagger_ui(request: Request) -> HTMLResponse:
        # A proxy mounting the service under a prefix passes it as root_path; every URL the
        # page loads carries it, as FastAPI's own pages do.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{title} - Swagger UI",
            oauth2_redirect_url=root + OAUTH2_REDIRECT_PATH,
            swagger_js_url=f"{root}{STATIC_PATH}/{SWAGGER_JS}",
            swagger_css_url=f"{root}{STATIC_PATH}/{SWAGGER_CSS}",
            swagger_favicon_url=f"{root}{STATIC_PATH}/{FAVICON}",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @router.get(OAUTH2_REDIRECT_PATH)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @router.get(REDOC_PATH)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_PATH}/{REDOC_JS}",
            redoc_favicon_url=f"{root}{STATIC_PATH}/{FAVICON}",
            with_google_fonts=False,
        )

    return router
