"""/healthz (the process answers) and /readyz (its database and upstreams answer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

Check = Callable[[], Awaitable[None]]


class Health(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "ok", "checks": {"database": "ok"}}]}
    )

    status: str
    checks: dict[str, str] = {}


def health_router(checks: Callable[[], Mapping[str, Check]], timeout: float = 2.0) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        response_model=Health,
        summary="Readiness: the database and upstream services answer",
        responses={503: {"model": Health, "description": "A dependency does not answer"}},
    )
    async def readyz() -> JSONResponse:
        results: dict[str, str] = {}
        for name, check in checks().items():
            try:
                await asyncio.wait_for(check(), timeout)
                results[name] = "ok"
            except Exception as exc:  # any failure means not ready; say which
                results[name] = f"error: {type(exc).__name__}: {exc}"[:300]
        ready = all(value == "ok" for value in results.values())
        body = Health(status="ok" if ready else "unavailable", checks=results)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    return router
