"""/app/config.json: what the web app needs to know of this gateway before anyone signs in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from chiso_gateway import __version__
from chiso_gateway.deps import SettingsDep

router = APIRouter(prefix="/app", include_in_schema=False)


@router.get("/config.json")
async def app_config(settings: SettingsDep) -> dict[str, Any]:
    return {
        "version": __version__,
        "anonymous_read": settings.anonymous_read,
        "token_ttl_seconds": settings.token_ttl_seconds,
        "max_upload_bytes": settings.max_upload_bytes,
        "compare_max_areas": settings.compare_max_areas,
    }
