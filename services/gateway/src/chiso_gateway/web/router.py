"""`/` and `/app/...`: the web app's page, its static files and the area list it picks from.

The page is plain files from this package (no build step, nothing fetched from elsewhere), so
it works offline. It calls the same public API any client calls, with the token the person
signs in for. These routes are public, not in OpenAPI (they are no API), not counted against
a quota (they never authenticate) and not audited (`middleware.UNAUDITED`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from chiso_gateway import insights
from chiso_shared.catalogue import scope_of

STATIC = Path(__file__).parent / "static"
STATIC_PREFIX = "/app/static"
# Everything from this origin, nothing inline: the page has no inline script or style, so an
# injected one (a document's text is shown on it) cannot run. `blob:` lets downloads and
# Chart.js' images work; `data:` fonts and images are what Chart.js and the vendored CSS use.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # The page is small and names its scripts without versions: always revalidated.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/app/areas.json")
async def area_list() -> JSONResponse:
    """The areas the page offers (public data: the shared catalogue's list)."""
    return JSONResponse(_areas(), headers={"Cache-Control": "public, max-age=3600"})


@cache
def _areas() -> list[dict[str, Any]]:
    """Each area code once, the country first, then by name, with both names, so the page
    switches language without asking again, whether the code is in force (codes that ended in
    the 2025 mergers keep their earlier series) and the form facts write it in (`scope`, the
    extraction contract's `VN-38`). Public: the upload form and the review filter need it
    without the scope `indicators:read`."""
    english = {row["code"]: row["name"] for row in insights.org_units("en")}
    return [
        {
            "code": row["code"],
            "scope": scope_of(row["code"]),
            "name_vi": row["name"],
            "name_en": english[row["code"]],
            "level": row["level"],
            "current": row["versions"][-1]["valid_to"] is None,
        }
        for row in insights.org_units("vi")
    ]


class _Static(StaticFiles):
    """The static files with the headers the page's own answer carries."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"cache-control", b"no-cache"))
                message = {**message, "headers": headers}
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def install(app: FastAPI) -> None:
    """Add the page's routes and its static files to `app`."""
    app.include_router(router)
    app.mount(STATIC_PREFIX, _Static(directory=STATIC), name="app-static")
